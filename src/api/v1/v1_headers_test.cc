#include "api/v1/v1_headers.h"

#include <gtest/gtest.h>

namespace glimmer::api::v1 {
namespace {

const std::vector<std::string> kDisk = {"raw", "qcow2"};
const std::vector<std::string> kContainer = {"bare", "ovf"};

StatusOr<V1Meta> Parse(std::vector<std::pair<std::string, std::string>> fields) {
  http::Headers h;
  for (auto& [k, v] : fields) h.Add(k, v);
  return ParseV1Headers(h, {kDisk, kContainer});
}

TEST(PercentDecodeTest, DecodesEscapesAndChecksUtf8) {
  EXPECT_EQ(*PercentDecode("my%20image"), "my image");
  EXPECT_EQ(*PercentDecode("caf%C3%A9"), "caf\xC3\xA9");
  EXPECT_EQ(*PercentDecode("a+b/c:d"), "a+b/c:d");
  for (const char* bad : {"50%", "%2", "%zz", "%C3", "%FF%FE", "%C0%AF", "%ED%A0%80"}) {
    EXPECT_FALSE(PercentDecode(bad).ok()) << bad;
  }
}

TEST(EncodeHeaderValueTest, RoundTripsThroughPercentDecode) {
  for (std::string v : {"plain name", "caf\xC3\xA9", "100%", "tab\there", "a%20b"}) {
    std::string enc = EncodeHeaderValue(v);
    for (unsigned char c : enc) EXPECT_TRUE(c >= 0x20 && c < 0x7F) << enc;
    EXPECT_EQ(*PercentDecode(enc), v);
  }
  EXPECT_EQ(EncodeHeaderValue("plain name"), "plain name");
}

TEST(BoolFromStringTest, OsloSemantics) {
  for (const char* t : {"True", "true", "1", "yes", "ON", "t", "y"}) EXPECT_TRUE(BoolFromString(t));
  for (const char* f : {"False", "None", "", "0", "no", "maybe"}) EXPECT_FALSE(BoolFromString(f));
}

TEST(ParseV1HeadersTest, WhatGlanceclientSendsOnCreate) {
  auto meta = Parse({{"x-image-meta-name", "my%20image"},
                     {"x-image-meta-disk_format", "raw"},
                     {"x-image-meta-container_format", "bare"},
                     {"x-image-meta-size", "1024"},
                     {"x-image-meta-is_public", "None"},
                     {"x-image-meta-property-OS-Distro", "debian"},
                     {"X-Auth-Token", "ignored"}});
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  EXPECT_EQ(meta->changes.name, std::optional<std::string>("my image"));
  EXPECT_EQ(meta->changes.disk_format, std::optional<std::string>("raw"));
  EXPECT_EQ(meta->size, 1024);
  EXPECT_EQ(meta->is_public, false);
  ASSERT_EQ(meta->changes.properties.size(), 1u);
  EXPECT_EQ(meta->changes.properties[0].first, "os_distro");
  EXPECT_TRUE(meta->property_keys.contains("os_distro"));
}

TEST(ParseV1HeadersTest, EmptyValueIsNone) {
  auto meta = Parse({{"x-image-meta-name", ""}, {"x-image-meta-min_ram", ""}});
  ASSERT_TRUE(meta.ok());
  ASSERT_TRUE(meta->changes.name.has_value());
  EXPECT_FALSE(meta->changes.name->has_value());
  EXPECT_FALSE(meta->changes.min_ram.has_value());
}

TEST(ParseV1HeadersTest, RefusesWhatGlanceRefused) {
  struct Case {
    std::string name, value, message_part;
  };
  for (const Case& c : std::vector<Case>{
           {"x-image-meta-colour", "red", "Bad header: x-image-meta-colour"},
           {"x-image-meta-size", "-1", "Cannot be a negative value."},
           {"x-image-meta-size", "12abc", "to an integer"},
           {"x-image-meta-size", "99999999999999999999999", "to an integer"},
           {"x-image-meta-min_disk", "1.5", "to an integer"},
           {"x-image-meta-disk_format", "floppy", "Invalid disk format 'floppy'"},
           {"x-image-meta-container_format", "box", "Invalid container format 'box'"},
           {"x-image-meta-name", std::string(256, 'n'), "Image name too long: 256"},
           {"x-image-meta-checksum", std::string(33, 'a'), "can't exceed 32 characters"},
           {"x-image-meta-id", "not-a-uuid", "Invalid image id format"},
           {"x-image-meta-name", "%E2%28%A1", "Not valid UTF-8"},
           {"x-image-meta-name", "bad%", "Malformed"},
           {"x-image-meta-property-name", "x", "Bad header"},
       }) {
    auto meta = Parse({{c.name, c.value}});
    ASSERT_FALSE(meta.ok()) << c.name << "=" << c.value;
    EXPECT_EQ(meta.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(meta.status().message().find(c.message_part), std::string::npos)
        << meta.status().message();
  }
}

TEST(ParseV1HeadersTest, DuplicatesAndServicePropertiesAreRefused) {
  auto dup = Parse({{"x-image-meta-name", "a"}, {"X-Image-Meta-Name", "b"}});
  EXPECT_EQ(dup.status().code(), StatusCode::kInvalidArgument);
  auto dup_prop = Parse({{"x-image-meta-property-a-b", "1"}, {"x-image-meta-property-a_b", "2"}});
  EXPECT_EQ(dup_prop.status().code(), StatusCode::kInvalidArgument);
  auto reserved = Parse({{"x-image-meta-property-os_glance_x", "1"}});
  EXPECT_EQ(reserved.status().code(), StatusCode::kPermissionDenied);
}

TEST(ParseV1HeadersTest, CopyFromAndLocationAreRecognised) {
  auto meta = Parse({{"x-glance-api-copy-from", "http://h/x.img"},
                     {"x-image-meta-location", "http://h/y.img"}});
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->copy_from, std::optional<std::string>("http://h/x.img"));
  EXPECT_EQ(meta->location, std::optional<std::string>("http://h/y.img"));
}

TEST(WriteV1HeadersTest, EveryFieldAsGlanceRenderedIt) {
  domain::Image image;
  image.id = "0f5e8b6a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
  image.name = "caf\xC3\xA9";
  image.status = domain::ImageStatus::kActive;
  image.visibility = domain::Visibility::kPublic;
  image.size = 5;
  image.checksum = "abc";
  image.owner = "p1";
  image.properties = {{"os_distro", "debian"}, {"os_glance_upload_node", "n1"}};
  http::Headers h;
  WriteV1Headers(image, h);
  EXPECT_EQ(h.Get("x-image-meta-id"), image.id);
  EXPECT_EQ(h.Get("x-image-meta-name"), "caf%C3%A9");
  EXPECT_EQ(h.Get("x-image-meta-status"), "active");
  EXPECT_EQ(h.Get("x-image-meta-is_public"), "True");
  EXPECT_EQ(h.Get("x-image-meta-protected"), "False");
  EXPECT_EQ(h.Get("x-image-meta-deleted"), "False");
  EXPECT_EQ(h.Get("x-image-meta-size"), "5");
  EXPECT_EQ(h.Get("x-image-meta-min_ram"), "0");
  EXPECT_EQ(h.Get("x-image-meta-property-os_distro"), "debian");
  EXPECT_FALSE(h.Has("x-image-meta-property-os_glance_upload_node"));
  EXPECT_FALSE(h.Has("x-image-meta-location"));
  EXPECT_FALSE(h.Has("x-image-meta-disk_format"));  // None: no header
}

TEST(ImageToV1JsonTest, Shape) {
  domain::Image image;
  image.id = "0f5e8b6a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
  image.visibility = domain::Visibility::kShared;
  image.properties = {{"k", "v"}};
  auto j = ImageToV1Json(image);
  EXPECT_EQ(j["is_public"], false);
  EXPECT_EQ(j["deleted"], false);
  EXPECT_TRUE(j["deleted_at"].is_null());
  EXPECT_EQ(j["properties"]["k"], "v");
  EXPECT_EQ(j["created_at"], "1970-01-01T00:00:00.000000");
  auto brief = ImageToV1BriefJson(image);
  EXPECT_EQ(brief.size(), 6u);
}

}  // namespace
}  // namespace glimmer::api::v1
