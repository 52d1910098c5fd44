#include "catalog/plan.h"

#include <gtest/gtest.h>

namespace glimmer::catalog {
namespace {

using images::PatchOp;
using images::Value;

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

std::vector<std::string> Describe(const std::vector<PatchOp>& ops) {
  std::vector<std::string> out;
  for (const auto& op : ops) {
    std::string s = op.op == PatchOp::Op::kAdd ? "add " : op.op == PatchOp::Op::kRemove ? "remove "
                                                                                         : "replace ";
    s += op.field;
    if (op.value) {
      const Value& v = *op.value;
      s += "=";
      if (v.kind == Value::Kind::kString) s += v.s;
      if (v.kind == Value::Kind::kInt) s += std::to_string(v.i);
      if (v.kind == Value::Kind::kBool) s += v.b ? "true" : "false";
      if (v.kind == Value::Kind::kStringList) {
        for (const auto& t : v.list) s += t + ";";
      }
    }
    out.push_back(s);
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
  auto fields = CreateFields(MakeEntry());
  std::vector<std::string> names;
  for (const auto& [k, v] : fields) names.push_back(k);
  EXPECT_EQ(names, (std::vector<std::string>{"name", "visibility", "disk_format",
                                             "container_format", "min_disk", "min_ram", "tags",
                                             "description", "hw_rng_model", "os_admin_user",
                                             "os_distro", "os_version"}));
  EXPECT_EQ(fields[1].second.s, "public");
  EXPECT_EQ(fields[3].second.s, "bare");
}

TEST(RetireOpsTest, RenamesWithCreationDateAndHides) {
  domain::Image image = Loaded(MakeEntry());
  EXPECT_EQ(Describe(RetireOps(image)),
            (std::vector<std::string>{"replace name=Debian 12 (2023-11-14)",
                                      "replace os_hidden=true"}));
}

}  // namespace
}  // namespace glimmer::catalog
