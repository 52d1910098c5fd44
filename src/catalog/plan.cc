#include "catalog/plan.h"

#include "common/time.h"
#include "domain/image_attributes.h"

namespace glimmer::catalog {

using domain::PatchStep;
using domain::ReplaceStep;
using domain::SetPropertyStep;

EntryPlan PlanEntry(const Entry& entry, const domain::Image* current,
                    std::string_view source_sha512) {
  EntryPlan plan;
  if (current == nullptr) {
    plan.kind = EntryPlan::Kind::kCreate;
    return plan;
  }
  if (!current->os_hash_value) {
    plan.kind = EntryPlan::Kind::kReplace;
    plan.discard_current = true;
    plan.reason = "the existing image has no data (status " +
                  std::string(domain::ToString(current->status)) + ")";
    return plan;
  }
  plan.kind = EntryPlan::Kind::kReplace;
  if (*current->os_hash_value != source_sha512) {
    plan.reason = "the image bytes changed";
    return plan;
  }
  if (current->disk_format.value_or("") != entry.disk_format) {
    plan.reason = "disk_format changed";
    return plan;
  }
  if (current->container_format.value_or("") != entry.container_format) {
    plan.reason = "container_format changed";
    return plan;
  }

  plan.kind = EntryPlan::Kind::kUpdate;
  if (current->visibility != domain::Visibility::kPublic) {
    plan.ops.push_back(ReplaceStep("visibility", {.visibility = domain::Visibility::kPublic}));
  }
  if (current->min_disk != entry.min_disk) {
    plan.ops.push_back(ReplaceStep("min_disk", {.min_disk = entry.min_disk}));
  }
  if (current->min_ram != entry.min_ram) {
    plan.ops.push_back(ReplaceStep("min_ram", {.min_ram = entry.min_ram}));
  }
  if (current->tags != entry.tags) {  // both sorted and unique
    plan.ops.push_back(ReplaceStep("tags", {.tags = entry.tags}));
  }
  const auto wanted = entry.ImageProperties();
  for (const auto& [key, value] : current->properties) {
    if (domain::IsServiceProperty(key)) continue;
    if (!wanted.count(key)) plan.ops.push_back(domain::RemoveStep(key));
  }
  for (const auto& [key, value] : wanted) {
    auto it = current->properties.find(key);
    if (it == current->properties.end()) {
      plan.ops.push_back(SetPropertyStep(PatchStep::Op::kAdd, key, value));
    } else if (it->second != value) {
      plan.ops.push_back(SetPropertyStep(PatchStep::Op::kReplace, key, value));
    }
  }
  if (plan.ops.empty()) plan.kind = EntryPlan::Kind::kUnchanged;
  return plan;
}

domain::ImageChanges CreateFields(const Entry& entry) {
  domain::ImageChanges c;
  c.name = entry.name;
  c.visibility = domain::Visibility::kPublic;
  c.disk_format = entry.disk_format;
  c.container_format = entry.container_format;
  c.min_disk = entry.min_disk;
  c.min_ram = entry.min_ram;
  if (!entry.tags.empty()) c.tags = entry.tags;
  for (const auto& [key, value] : entry.ImageProperties()) c.properties.emplace_back(key, value);
  return c;
}

std::string RetiredName(std::string_view name, UnixMicros created_at) {
  return std::string(name) + " (" + FormatIsoSeconds(created_at).substr(0, 10) + ")";
}

std::vector<PatchStep> RetireOps(const domain::Image& old) {
  return {ReplaceStep("name", {.name = RetiredName(old.name.value_or(""), old.created_at)}),
          ReplaceStep("os_hidden", {.os_hidden = true})};
}

}  // namespace glimmer::catalog
