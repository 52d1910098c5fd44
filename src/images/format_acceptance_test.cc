#include "images/format_acceptance.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace glimmer::images {
namespace {

formats::Inspection Inspected(std::string format, int64_t virtual_size = 1000,
                              std::string failed_check = "") {
  formats::Inspection in;
  in.format = std::move(format);
  in.virtual_size = virtual_size;
  in.file_size = 300;
  if (!failed_check.empty()) in.verdict = {failed_check, "qcow2 image has a backing file"};
  return in;
}

struct Case {
  FormatUse use;
  std::optional<std::string> disk_format;
  std::optional<std::string> container_format;
  formats::Inspection data;
  // Expected: an empty message means accepted as (format, virtual_size, raw_holds).
  std::string refusal;
  std::string format;
  std::optional<int64_t> virtual_size;
  std::string raw_holds;
};

constexpr auto kUpload = FormatUse::kUpload;
constexpr auto kConversion = FormatUse::kConversionInput;
const char* const kSafety =
    "Image failed safety checks: backing_file: qcow2 image has a backing file";

// Glance's rule for uploads and the stricter one for conversion input, as a table.
TEST(AcceptFormat, Table) {
  const std::vector<Case> cases = {
      // kUpload: only bare images with a disk_format are inspected.
      {kUpload, "qcow2", "ovf", Inspected("raw"), "", "", {}, ""},
      {kUpload, std::nullopt, "bare", Inspected("raw"), "", "", {}, ""},
      {kUpload, "qcow2", "bare", Inspected("qcow2", 1000, "backing_file"), kSafety, "", {}, ""},
      {kUpload, "qcow2", "bare", Inspected("qcow2"), "", "qcow2", 1000, ""},
      {kUpload, "qcow2", "bare", Inspected("qcow2", -1), "", "qcow2", {}, ""},
      {kUpload, "iso", "bare", Inspected("gpt"), "", "iso", 1000, ""},
      {kUpload, "ami", "bare", Inspected("raw"), "", "ami", {}, ""},
      {kUpload, "ploop", "bare", Inspected("raw"), "", "ploop", {}, ""},
      {kUpload, "raw", "bare", Inspected("qcow2"), "", "raw", 300, "qcow2"},
      {kUpload, "raw", "bare", Inspected("gpt"), "", "raw", 300, "gpt"},
      {kUpload, "vmdk", "bare", Inspected("qcow2"),
       "Image disk_format is vmdk but the data is detected as qcow2", "", {}, ""},
      {kUpload, "ami", "bare", Inspected("qcow2"),
       "Image disk_format is ami but the data is detected as qcow2", "", {}, ""},
      // kConversionInput: always inspected; gpt is raw; any other mismatch is refused.
      {kConversion, "qcow2", "ovf", Inspected("qcow2"), "", "qcow2", 1000, ""},
      {kConversion, "qcow2", "bare", Inspected("qcow2", 1000, "backing_file"), kSafety, "", {}, ""},
      {kConversion, "raw", "bare", Inspected("gpt"), "", "raw", 1000, ""},
      {kConversion, "iso", "bare", Inspected("gpt"), "", "iso", {}, ""},
      {kConversion, "iso", "bare", Inspected("iso"), "", "iso", {}, ""},
      {kConversion, "raw", "bare", Inspected("qcow2"),
       "Image format mismatch: disk_format is raw but the staged data is qcow2", "", {}, ""},
      {kConversion, "ami", "bare", Inspected("raw"),
       "Image format mismatch: disk_format is ami but the staged data is raw", "", {}, ""},
      {kConversion, std::nullopt, "bare", Inspected("raw"),
       "Image format mismatch: disk_format is  but the staged data is raw", "", {}, ""},
  };
  for (const Case& c : cases) {
    int inspections = 0;
    auto inspect = [&]() -> StatusOr<formats::Inspection> {
      ++inspections;
      return c.data;
    };
    auto got = AcceptFormat(c.disk_format, c.container_format, inspect, c.use);
    const std::string label = std::string(c.use == kUpload ? "upload " : "conversion ") +
                              c.disk_format.value_or("<none>") + "/" +
                              c.container_format.value_or("<none>") + " data " + c.data.format;
    EXPECT_LE(inspections, 1) << label;
    if (!c.refusal.empty()) {
      ASSERT_FALSE(got.ok()) << label;
      EXPECT_EQ(got.status().code(), StatusCode::kUnsupportedMedia) << label;
      EXPECT_EQ(got.status().message(), c.refusal) << label;
      continue;
    }
    ASSERT_TRUE(got.ok()) << label << ": " << got.status().ToString();
    EXPECT_EQ(got->format, c.format) << label;
    EXPECT_EQ(got->virtual_size, c.virtual_size) << label;
    EXPECT_EQ(got->raw_holds, c.raw_holds) << label;
    if (c.format.empty()) EXPECT_EQ(inspections, 0) << label;
  }
}

TEST(AcceptFormat, InspectionErrorsPassThrough) {
  auto got = AcceptFormat("qcow2", "bare",
                          []() -> StatusOr<formats::Inspection> { return InternalError("EIO"); },
                          kUpload);
  EXPECT_EQ(got.status().code(), StatusCode::kInternal);
}

TEST(SafetyCheckFailed, OneWording) {
  Status st = SafetyCheckFailed("polyglot: looks like two formats");
  EXPECT_EQ(st.code(), StatusCode::kUnsupportedMedia);
  EXPECT_EQ(st.message(), "Image failed safety checks: polyglot: looks like two formats");
}

TEST(InspectsContainer, OnlyBare) {
  EXPECT_TRUE(InspectsContainer("bare"));
  EXPECT_FALSE(InspectsContainer("ovf"));
  EXPECT_FALSE(InspectsContainer(std::nullopt));
}

}  // namespace
}  // namespace glimmer::images
