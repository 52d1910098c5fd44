// The internal helpers shared by the image components.
#include "images/internal/store_list_property.h"

#include <gtest/gtest.h>

#include "images/internal/stage_digest.h"
#include "images/internal/upload_marks.h"
#include "images/import.h"

namespace glimmer::images::internal {
namespace {

using Items = std::vector<std::string>;

TEST(StoreListPropertyTest, ReadsSkipsEmptyItemsAndRemovesWhenEmpty) {
  domain::Image image;
  EXPECT_EQ(StoreListProperty(image, "k"), Items{});
  image.properties["k"] = ",a,,b,";
  EXPECT_EQ(StoreListProperty(image, "k"), (Items{"a", "b"}));
  SetStoreListProperty(image, "k", {"x", "y", "z"});
  EXPECT_EQ(image.properties.at("k"), "x,y,z");
  EXPECT_EQ(StoreListProperty(image, "k"), (Items{"x", "y", "z"}));
  SetStoreListProperty(image, "k", {});
  EXPECT_FALSE(image.properties.count("k"));
  EXPECT_EQ(JoinList({"one"}), "one");
}

TEST(NodeMarksTest, OtherAndSilentNodes) {
  domain::Image image;
  EXPECT_FALSE(MarkedByOtherNode(image, kUploadNode, "a"));  // unmarked: this node's
  image.properties[std::string(kUploadNode)] = "b";
  EXPECT_TRUE(MarkedByOtherNode(image, kUploadNode, "a"));
  EXPECT_FALSE(MarkedByOtherNode(image, kUploadNode, "b"));
  EXPECT_FALSE(MarkedByOtherNode(image, kUploadNode, ""));  // no node id: everything is ours
  EXPECT_EQ(MarkedBySilentNode(image, kUploadNode, "a", {"c", "b"}), "b");
  EXPECT_EQ(MarkedBySilentNode(image, kUploadNode, "a", {"c"}), std::nullopt);
  EXPECT_EQ(MarkedBySilentNode(image, kUploadNode, "b", {"b"}), std::nullopt);  // never itself
}

TEST(ResetDataTest, ForgetsDataAndUploadMarks) {
  domain::Image image;
  image.size = 1;
  image.virtual_size = 2;
  image.checksum = "c";
  image.os_hash_algo = "sha512";
  image.os_hash_value = "v";
  image.locations.push_back({"s", "file:///x", "{}"});
  image.properties = {{std::string(kUploadLocation), "file:///y"},
                      {std::string(kUploadNode), "n"},
                      {"kept", "1"}};
  ResetData(image);
  EXPECT_FALSE(image.size || image.virtual_size || image.checksum || image.os_hash_algo ||
               image.os_hash_value);
  EXPECT_TRUE(image.locations.empty());
  EXPECT_EQ(image.properties, (std::map<std::string, std::string>{{"kept", "1"}}));
}

TEST(StageDigestTest, RoundTripsAndRejectsDamagedValues) {
  StreamResult r;
  r.size = 1234;
  r.md5_hex = std::string(32, 'a');
  r.sha512_hex = std::string(128, 'b');
  r.format = "qcow2";
  r.virtual_size = 1 << 20;
  domain::Image image;
  EXPECT_EQ(DecodeStageDigest(image), std::nullopt);
  image.properties[std::string(kStageDigestProperty)] = EncodeStageDigest(r);
  auto back = DecodeStageDigest(image);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->size, 1234);
  EXPECT_EQ(back->md5_hex, r.md5_hex);
  EXPECT_EQ(back->sha512_hex, r.sha512_hex);
  EXPECT_EQ(back->format, "qcow2");
  EXPECT_EQ(back->stream_failure, "");
  EXPECT_EQ(back->virtual_size, 1 << 20);
  image.properties[std::string(kStageDigestProperty)] = "not json";
  EXPECT_EQ(DecodeStageDigest(image), std::nullopt);
  r.md5_hex = "short";
  image.properties[std::string(kStageDigestProperty)] = EncodeStageDigest(r);
  EXPECT_EQ(DecodeStageDigest(image), std::nullopt);
  image.properties[std::string(kStageDigestProperty)] = R"({"size": "x"})";
  EXPECT_EQ(DecodeStageDigest(image), std::nullopt);
}

}  // namespace
}  // namespace glimmer::images::internal
