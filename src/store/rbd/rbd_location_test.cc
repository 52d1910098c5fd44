#include "store/rbd/rbd_location.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "store/rbd/rbd_errors.h"

namespace glimmer::store::rbd {
namespace {

constexpr const char* kFsid = "db57e258-e5ff-45c9-a57d-852ac1a4d778";

TEST(RbdLocationTest, FormatsLikeGlance) {
  EXPECT_EQ(FormatRbdLocation(kFsid, "images", "0b6a4b8e-7c4e-4a8f-9f4e-0a3c2b1d0e9f", "snap"),
            "rbd://db57e258-e5ff-45c9-a57d-852ac1a4d778/images/"
            "0b6a4b8e-7c4e-4a8f-9f4e-0a3c2b1d0e9f/snap");
  EXPECT_EQ(PercentEncode("a b/c@d~e_f.g-h%"), "a%20b%2Fc%40d~e_f.g-h%25");
}

TEST(RbdLocationTest, ParsesFullForm) {
  StatusOr<RbdLocation> loc =
      ParseRbdLocation("rbd://DB57E258-E5FF-45C9-A57D-852AC1A4D778/images/img-1.x/snap");
  ASSERT_TRUE(loc.ok()) << loc.status().ToString();
  EXPECT_EQ(loc->fsid, kFsid);
  EXPECT_EQ(loc->pool, "images");
  EXPECT_EQ(loc->image, "img-1.x");
  EXPECT_EQ(loc->snapshot, "snap");
  EXPECT_FALSE(loc->short_form());
}

TEST(RbdLocationTest, DecodesPercentEscapes) {
  StatusOr<RbdLocation> loc =
      ParseRbdLocation(std::string("rbd://") + kFsid + "/my%20pool/img%2D1/sn%61p");
  ASSERT_TRUE(loc.ok()) << loc.status().ToString();
  EXPECT_EQ(loc->pool, "my pool");
  EXPECT_EQ(loc->image, "img-1");
  EXPECT_EQ(loc->snapshot, "snap");
  // Round trip.
  StatusOr<RbdLocation> again =
      ParseRbdLocation(FormatRbdLocation(loc->fsid, loc->pool, loc->image, loc->snapshot));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->pool, "my pool");
}

TEST(RbdLocationTest, ParsesShortForm) {
  StatusOr<RbdLocation> loc = ParseRbdLocation("rbd://0b6a4b8e-7c4e-4a8f-9f4e-0a3c2b1d0e9f");
  ASSERT_TRUE(loc.ok()) << loc.status().ToString();
  EXPECT_TRUE(loc->short_form());
  EXPECT_EQ(loc->image, "0b6a4b8e-7c4e-4a8f-9f4e-0a3c2b1d0e9f");
  EXPECT_TRUE(loc->pool.empty());
  EXPECT_TRUE(loc->snapshot.empty());
}

TEST(RbdLocationTest, RefusesHostileLocations) {
  const std::string f = kFsid;
  const std::string bad[] = {
      "",
      "rbd://",
      "rbd:/" + f + "/p/i/snap",
      "RBD://" + f + "/p/i/snap",
      "file:///var/lib/glance/images/x",
      "rbd://" + f + "/p/i",             // 3 components
      "rbd://" + f + "/p/i/snap/extra",  // 5 components
      "rbd://" + f + "/p/i/snap/",       // trailing slash
      "rbd://" + f + "//i/snap",         // empty pool
      "rbd:///p/i/snap",                 // empty fsid
      "rbd://" + f + "/p//snap",         // empty image
      "rbd://" + f + "/p/i/",            // empty snapshot
      "rbd://not-a-uuid/p/i/snap",
      "rbd://" + f + "x/p/i/snap",
      "rbd://" + f + "/p/i@other/snap",      // snapshot trick in the image name
      "rbd://" + f + "/p/i%40other/snap",    // ... encoded
      "rbd://" + f + "/p/..%2F..%2Fx/snap",  // encoded slashes
      "rbd://" + f + "/p/i%2Fj/snap",
      "rbd://" + f + "/p/../snap",
      "rbd://" + f + "/p/.hidden/snap",
      "rbd://" + f + "/p/i/sn@p",
      "rbd://" + f + "/p@x/i/snap",    // '@' in the pool
      "rbd://" + f + "/p%2Fq/i/snap",  // '/' in the pool (encoded)
      "rbd://" + f + "/p%00/i/snap",   // NUL in the pool
      "rbd://" + f + "/p/i%00/snap",
      "rbd://" + f + "/p/i%/snap",  // malformed escapes
      "rbd://" + f + "/p/i%4/snap",
      "rbd://" + f + "/p/i%zz/snap",
      "rbd://" + f + "/p/i j/snap",  // space
      "rbd://" + f + "/p/i\n/snap",
      "rbd://" + f + "/p/i\xc3\xa9/snap",  // non-ASCII
      "rbd://" + f + "/p/i?x=1/snap",
      "rbd://" + f + "/p/i#frag/snap",
      "rbd://" + f + "/p/" + std::string(97, 'a') + "/snap",  // too long for RBD
      "rbd://i@snap",                                         // short form tricks
      "rbd://i%2Fj",
      "rbd://..",
      "rbd://" + std::string(2000, 'a'),
  };
  for (const std::string& uri : bad) {
    StatusOr<RbdLocation> loc = ParseRbdLocation(uri);
    EXPECT_FALSE(loc.ok()) << "accepted: " << uri;
    if (!loc.ok()) {
      EXPECT_EQ(loc.status().code(), StatusCode::kInvalidArgument) << uri;
    }
  }
}

TEST(RbdLocationTest, ValidNames) {
  EXPECT_TRUE(IsValidRbdName("0b6a4b8e-7c4e-4a8f-9f4e-0a3c2b1d0e9f"));
  EXPECT_TRUE(IsValidRbdName("a.b_c-D9"));
  EXPECT_FALSE(IsValidRbdName(""));
  EXPECT_FALSE(IsValidRbdName(".a"));
  EXPECT_FALSE(IsValidRbdName("a/b"));
  EXPECT_FALSE(IsValidRbdName("a@b"));
  EXPECT_TRUE(IsValidRbdName(std::string(96, 'a')));
  EXPECT_FALSE(IsValidRbdName(std::string(97, 'a')));
}

TEST(RbdErrorsTest, MapsErrnoOnce) {
  EXPECT_EQ(RbdErrorToStatus(-ENOSPC, "write").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(RbdErrorToStatus(-EDQUOT, "write").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(RbdErrorToStatus(-ETIMEDOUT, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(RbdErrorToStatus(-ENOTCONN, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(RbdErrorToStatus(-ESHUTDOWN, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(RbdErrorToStatus(-EACCES, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(RbdErrorToStatus(-ENOENT, "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(RbdErrorToStatus(-EEXIST, "x").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(RbdErrorToStatus(-EINVAL, "x").code(), StatusCode::kInternal);
  EXPECT_EQ(RbdErrorToStatus(EIO, "x").code(), StatusCode::kInternal);
  EXPECT_NE(RbdErrorToStatus(-EIO, "read image data").message().find("read image data"),
            std::string::npos);
}

}  // namespace
}  // namespace glimmer::store::rbd
