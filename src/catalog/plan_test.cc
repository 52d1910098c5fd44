#include "catalog/plan.h"

#include <gtest/gtest.h>

namespace glimmer::catalog {
namespace {

using domain::ImageChanges;
using domain::PatchStep;

const std::string kSha(128, 'a');
const std::string kOtherSha(128, 'b');

Entry MakeEntry() {
  Entry e;
  e.name = "Debian 12";
  e.os_distro = "debian";
  e.os_version = "12";
  e.login_user = "debian";
  e.description = "Debian 12 (bookworm)";
  e.disk_format = "qcow2";
  e.min_disk = 2;
  e.min_ram = 256;
  e.tags = {"linux"};
  e.properties = {{"hw_rng_model", "virtio"}};
  e.source.file = "/x/debian.qcow2";
  return e;
}

// The image that loading MakeEntry() registers.
domain::Image Loaded(const Entry& e) {
  domain::Image image;
  image.id = "11111111-2222-4333-8444-555555555555";
  image.name = e.name;
  image.status = domain::ImageStatus::kActive;
  image.visibility = domain::Visibility::kPublic;
  image.disk_format = e.disk_format;
  image.container_format = e.container_format;
  image.min_disk = e.min_disk;
  image.min_ram = e.min_ram;
  image.tags = e.tags;
  image.properties = e.ImageProperties();
  image.properties["os_glance_importing_to_stores"] = "";  // service-owned: never touched
  image.os_hash_algo = "sha512";
  image.os_hash_value = kSha;
  image.created_at = 1700000000LL * 1000000;  // 2023-11-14T22:13:20Z
  return image;
}

// The value a step sets, as text ("" when it sets nothing).
std::string DescribeValue(const ImageChanges& c) {
  if (c.name) return "=" + c.name->value_or("null");
  if (c.visibility) return "=" + std::string(domain::ToString(*c.visibility));
  if (c.os_hidden) return *c.os_hidden ? "=true" : "=false";
  if (c.min_disk) return "=" + std::to_string(*c.min_disk);
  if (c.min_ram) return "=" + std::to_string(*c.min_ram);
  if (c.tags) {
    std::string s = "=";
    for (const auto& t : *c.tags) s += t + ";";
    return s;
  }
  if (!c.properties.empty()) return "=" + c.properties.front().second;
  return "";
}

std::vector<std::string> Describe(const std::vector<PatchStep>& ops) {
  std::vector<std::string> out;
  for (const auto& op : ops) {
    std::string s = op.op == PatchStep::Op::kAdd      ? "add "
                    : op.op == PatchStep::Op::kRemove ? "remove "
                                                      : "replace ";
    out.push_back(s + op.path + DescribeValue(op.value));
  }
  return out;
}

TEST(PlanEntryTest, NoImageMeansCreate) {
  EXPECT_EQ(PlanEntry(MakeEntry(), nullptr, kSha).kind, EntryPlan::Kind::kCreate);
}

TEST(PlanEntryTest, SameBytesSameMetadataIsUnchanged) {
  Entry e = MakeEntry();
  domain::Image image = Loaded(e);
  auto plan = PlanEntry(e, &image, kSha);
  EXPECT_EQ(plan.kind, EntryPlan::Kind::kUnchanged);
  EXPECT_TRUE(plan.ops.empty());
}

TEST(PlanEntryTest, MetadataChangesBecomeAPatch) {
  Entry e = MakeEntry();
  domain::Image image = Loaded(e);
  image.visibility = domain::Visibility::kShared;
  image.properties["legacy"] = "x";
  e.min_ram = 512;
  e.login_user = "admin";
  e.tags = {"linux", "stable"};
  e.description.clear();  // removed from the catalog -> removed from the image
  e.properties["hw_disk_bus"] = "virtio";
  auto plan = PlanEntry(e, &image, kSha);
  ASSERT_EQ(plan.kind, EntryPlan::Kind::kUpdate);
  EXPECT_EQ(Describe(plan.ops),
            (std::vector<std::string>{"replace visibility=public", "replace min_ram=512",
                                      "replace tags=linux;stable;", "remove description",
                                      "remove legacy", "add hw_disk_bus=virtio",
                                      "replace os_admin_user=admin"}));
}

TEST(PlanEntryTest, ChangedBytesReplace) {
  Entry e = MakeEntry();
  domain::Image image = Loaded(e);
  auto plan = PlanEntry(e, &image, kOtherSha);
  EXPECT_EQ(plan.kind, EntryPlan::Kind::kReplace);
  EXPECT_FALSE(plan.discard_current);
  EXPECT_EQ(plan.reason, "the image bytes changed");
}

TEST(PlanEntryTest, ChangedFormatsReplaceEvenWithSameBytes) {
  Entry e = MakeEntry();
  domain::Image image = Loaded(e);
  e.disk_format = "raw";
  EXPECT_EQ(PlanEntry(e, &image, kSha).reason, "disk_format changed");
  e = MakeEntry();
  e.container_format = "ovf";
  EXPECT_EQ(PlanEntry(e, &image, kSha).reason, "container_format changed");
}

TEST(PlanEntryTest, ImageWithoutDataIsDiscarded) {
  Entry e = MakeEntry();
  domain::Image image = Loaded(e);
  image.status = domain::ImageStatus::kQueued;
  image.os_hash_value.reset();
  auto plan = PlanEntry(e, &image, kSha);
  EXPECT_EQ(plan.kind, EntryPlan::Kind::kReplace);
  EXPECT_TRUE(plan.discard_current);
  EXPECT_NE(plan.reason.find("status queued"), std::string::npos);
}

TEST(CreateFieldsTest, PublicWithEveryProperty) {
  Entry e = MakeEntry();
  ImageChanges c = CreateFields(e);
  EXPECT_EQ(c.name, std::optional<std::string>(e.name));
  EXPECT_EQ(c.visibility, domain::Visibility::kPublic);
  EXPECT_EQ(c.disk_format, std::optional<std::string>(e.disk_format));
  EXPECT_EQ(c.container_format, std::optional<std::string>("bare"));
  EXPECT_EQ(c.min_disk, e.min_disk);
  EXPECT_EQ(c.min_ram, e.min_ram);
  EXPECT_EQ(c.tags, e.tags);
  std::vector<std::string> names;
  for (const auto& [k, v] : c.properties) names.push_back(k);
  EXPECT_EQ(names, (std::vector<std::string>{"description", "hw_rng_model", "os_admin_user",
                                             "os_distro", "os_version"}));
}

TEST(RetireOpsTest, RenamesWithCreationDateAndHides) {
  domain::Image image = Loaded(MakeEntry());
  EXPECT_EQ(Describe(RetireOps(image)),
            (std::vector<std::string>{"replace name=Debian 12 (2023-11-14)",
                                      "replace os_hidden=true"}));
}

}  // namespace
}  // namespace glimmer::catalog
