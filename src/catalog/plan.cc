#include "catalog/plan.h"

#include "common/time.h"
#include "domain/image_attributes.h"

namespace glimmer::catalog {
namespace {

using images::PatchOp;
using images::Value;


Value List(std::vector<std::string> list) {
  Value v;
  v.kind = Value::Kind::kStringList;
  v.list = std::move(list);
  return v;
}

PatchOp Op(PatchOp::Op op, std::string field, std::optional<Value> value) {
  PatchOp p;
  p.op = op;
  p.field = std::move(field);
  p.value = std::move(value);
  return p;
}

}  // namespace

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
    plan.ops.push_back(Op(PatchOp::Op::kReplace, "visibility", Value::String("public")));
  }
  if (current->min_disk != entry.min_disk) {
    plan.ops.push_back(Op(PatchOp::Op::kReplace, "min_disk", Value::Int(entry.min_disk)));
  }
  if (current->min_ram != entry.min_ram) {
    plan.ops.push_back(Op(PatchOp::Op::kReplace, "min_ram", Value::Int(entry.min_ram)));
  }
  if (current->tags != entry.tags) {  // both sorted and unique
    plan.ops.push_back(Op(PatchOp::Op::kReplace, "tags", List(entry.tags)));
  }
  const auto wanted = entry.ImageProperties();
  for (const auto& [key, value] : current->properties) {
    if (domain::IsServiceProperty(key)) continue;
    if (!wanted.count(key)) plan.ops.push_back(Op(PatchOp::Op::kRemove, key, std::nullopt));
  }
  for (const auto& [key, value] : wanted) {
    auto it = current->properties.find(key);
    if (it == current->properties.end()) {
      plan.ops.push_back(Op(PatchOp::Op::kAdd, key, Value::String(value)));
    } else if (it->second != value) {
      plan.ops.push_back(Op(PatchOp::Op::kReplace, key, Value::String(value)));
    }
  }
  if (plan.ops.empty()) plan.kind = EntryPlan::Kind::kUnchanged;
  return plan;
}

std::vector<std::pair<std::string, Value>> CreateFields(const Entry& entry) {
  std::vector<std::pair<std::string, Value>> fields;
  fields.emplace_back("name", Value::String(entry.name));
  fields.emplace_back("visibility", Value::String("public"));
  fields.emplace_back("disk_format", Value::String(entry.disk_format));
  fields.emplace_back("container_format", Value::String(entry.container_format));
  fields.emplace_back("min_disk", Value::Int(entry.min_disk));
  fields.emplace_back("min_ram", Value::Int(entry.min_ram));
  if (!entry.tags.empty()) fields.emplace_back("tags", List(entry.tags));
  for (const auto& [key, value] : entry.ImageProperties()) {
    fields.emplace_back(key, Value::String(value));
  }
  return fields;
}

std::string RetiredName(std::string_view name, UnixMicros created_at) {
  return std::string(name) + " (" + FormatIsoSeconds(created_at).substr(0, 10) + ")";
}

std::vector<PatchOp> RetireOps(const domain::Image& old) {
  return {Op(PatchOp::Op::kReplace, "name",
             Value::String(RetiredName(old.name.value_or(""), old.created_at))),
          Op(PatchOp::Op::kReplace, "os_hidden", Value::Bool(true))};
}

}  // namespace glimmer::catalog
