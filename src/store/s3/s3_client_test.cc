// Hermetic tests of the S3 store's internals: URI encoding, canonical queries, the XML reader
// and the error mapping. The store itself is tested against RADOS Gateway (s3_store_svctest.cc).

#include "store/s3/s3_client.h"
#include "common/markup.h"

#include <gtest/gtest.h>

namespace glimmer::store::s3::internal {
namespace {

TEST(UriEncodeTest, KeepsUnreservedOnly) {
  EXPECT_EQ(UriEncode("aZ09-_.~", false), "aZ09-_.~");
  EXPECT_EQ(UriEncode("a b/c+d=e&f", false), "a%20b%2Fc%2Bd%3De%26f");
  EXPECT_EQ(UriEncode("a b/c", true), "a%20b/c");
  EXPECT_EQ(UriEncode("\xc3\xa9", false), "%C3%A9");
  EXPECT_EQ(UriEncode(std::string("\0", 1), false), "%00");
}

TEST(CanonicalQueryTest, SortsEncodesAndWritesEmptyValues) {
  EXPECT_EQ(CanonicalQuery({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(CanonicalQuery({{"uploadId", "2~a/b"}, {"partNumber", "10"}}),
            "partNumber=10&uploadId=2~a%2Fb");
  EXPECT_EQ(CanonicalQuery({{"uploads", ""}, {"upload-id-marker", "x"}, {"key-marker", "k"}}),
            "key-marker=k&upload-id-marker=x&uploads=");
  EXPECT_EQ(CanonicalQuery({}), "");
}

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Sha256Hex(std::string_view()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex(std::string_view("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string a = "ab";
  const std::string b = "c";
  std::vector<std::span<const std::byte>> parts = {
      {reinterpret_cast<const std::byte*>(a.data()), a.size()},
      {reinterpret_cast<const std::byte*>(b.data()), b.size()}};
  EXPECT_EQ(Sha256Hex(parts), Sha256Hex(std::string_view("abc")));
}

TEST(XmlTest, FindsElementsByExactName) {
  const std::string xml =
      R"(<?xml version="1.0"?><ListMultipartUploadsResult xmlns="http://s3/">)"
      "<IsTruncated>false</IsTruncated>"
      "<Upload><Key>a&amp;b</Key><UploadId>2~x</UploadId><Initiated>2026-01-01T00:00:00.000Z"
      "</Initiated></Upload>"
      "<Upload ><Key>c</Key><UploadId>2~y</UploadId><Initiated/></Upload>"
      "</ListMultipartUploadsResult>";
  auto uploads = XmlElements(xml, "Upload");  // not <UploadId>
  ASSERT_EQ(uploads.size(), 2u);
  EXPECT_EQ(XmlText(uploads[0], "Key"), "a&b");
  EXPECT_EQ(XmlText(uploads[0], "UploadId"), "2~x");
  EXPECT_EQ(XmlText(uploads[1], "Key"), "c");
  EXPECT_EQ(XmlText(uploads[1], "Initiated"), "");
  EXPECT_EQ(XmlText(xml, "IsTruncated"), "false");
  EXPECT_EQ(XmlText(xml, "Missing"), std::nullopt);
}

TEST(XmlTest, SurvivesMalformedInput) {
  EXPECT_TRUE(XmlElements("<Key>unterminated", "Key").empty());
  EXPECT_TRUE(XmlElements("<Key", "Key").empty());
  EXPECT_TRUE(XmlElements("", "Key").empty());
  EXPECT_EQ(XmlText("<Code><Code>x</Code>", "Code"), "<Code>x");
}

TEST(XmlTest, DecodesEntitiesAndKeepsBadOnes) {
  EXPECT_EQ(XmlDecode("&lt;&gt;&amp;&quot;&apos;"), "<>&\"'");
  EXPECT_EQ(XmlDecode("&#65;&#x42;&#xe9;"), "AB\xc3\xa9");
  EXPECT_EQ(XmlDecode("&#x1F600;"), "\xf0\x9f\x98\x80");
  EXPECT_EQ(XmlDecode("&bogus; &#; &#x110000; &#0; &#xD800; & x"),
            "&bogus; &#; &#x110000; &#0; &#xD800; & x");
  EXPECT_EQ(EscapeMarkup("\"a\"<&>"), "&quot;a&quot;&lt;&amp;&gt;");
}

TEST(ErrorMappingTest, OneMapping) {
  auto code = [](long http, std::string_view s3) {
    return MapS3Error("op", "bucket b key k", http, s3, "").code();
  };
  EXPECT_EQ(code(404, ""), StatusCode::kNotFound);
  EXPECT_EQ(code(404, "NoSuchKey"), StatusCode::kNotFound);
  EXPECT_EQ(code(404, "NoSuchBucket"), StatusCode::kNotFound);
  EXPECT_EQ(code(404, "NoSuchUpload"), StatusCode::kNotFound);
  EXPECT_EQ(code(403, ""), StatusCode::kPermissionDenied);
  EXPECT_EQ(code(403, "AccessDenied"), StatusCode::kPermissionDenied);
  EXPECT_EQ(code(403, "SignatureDoesNotMatch"), StatusCode::kPermissionDenied);
  EXPECT_EQ(code(403, "InvalidAccessKeyId"), StatusCode::kPermissionDenied);
  EXPECT_EQ(code(507, ""), StatusCode::kResourceExhausted);
  EXPECT_EQ(code(400, "EntityTooLarge"), StatusCode::kResourceExhausted);
  EXPECT_EQ(code(403, "QuotaExceeded"), StatusCode::kResourceExhausted);
  EXPECT_EQ(code(500, ""), StatusCode::kUnavailable);
  EXPECT_EQ(code(503, "SlowDown"), StatusCode::kUnavailable);
  EXPECT_EQ(code(200, "InternalError"), StatusCode::kUnavailable);  // 200 with <Error>
  EXPECT_EQ(code(400, "InvalidPart"), StatusCode::kInternal);
  EXPECT_EQ(code(409, "BucketNotEmpty"), StatusCode::kInternal);

  const Status s =
      MapS3Error("upload of part 3", "bucket imgs key abc", 403, "AccessDenied", "denied");
  EXPECT_NE(s.message().find("upload of part 3"), std::string::npos);
  EXPECT_NE(s.message().find("bucket imgs key abc"), std::string::npos);
  EXPECT_NE(s.message().find("AccessDenied"), std::string::npos);
  EXPECT_NE(s.message().find("403"), std::string::npos);
}

TEST(ErrorMappingTest, TransportErrors) {
  EXPECT_EQ(MapCurlError("op", "r", CURLE_COULDNT_CONNECT, "").code(), StatusCode::kUnavailable);
  EXPECT_EQ(MapCurlError("op", "r", CURLE_OPERATION_TIMEDOUT, "").code(), StatusCode::kUnavailable);
  EXPECT_EQ(MapCurlError("op", "r", CURLE_RECV_ERROR, "").code(), StatusCode::kUnavailable);
  EXPECT_EQ(MapCurlError("op", "r", CURLE_ABORTED_BY_CALLBACK, "").code(), StatusCode::kCancelled);
  EXPECT_EQ(MapCurlError("op", "r", CURLE_OUT_OF_MEMORY, "").code(), StatusCode::kInternal);
  EXPECT_TRUE(IsRetryableCurlError(CURLE_COULDNT_CONNECT));
  EXPECT_FALSE(IsRetryableCurlError(CURLE_PEER_FAILED_VERIFICATION));
  EXPECT_TRUE(IsRetryableHttp(503, ""));
  EXPECT_TRUE(IsRetryableHttp(400, "RequestTimeout"));
  EXPECT_FALSE(IsRetryableHttp(404, "NoSuchKey"));
  EXPECT_FALSE(IsRetryableHttp(403, ""));
}

TEST(ClientTest, UrlForms) {
  ClientConfig c;
  c.scheme = "http";
  c.host_port = "127.0.0.1:47480";
  c.bucket = "imgs";
  c.region = "default";
  Client path(c);
  EXPECT_EQ(path.Url("abc", ""), "http://127.0.0.1:47480/imgs/abc");
  EXPECT_EQ(path.Url("", "uploads="), "http://127.0.0.1:47480/imgs?uploads=");
  EXPECT_EQ(path.Url("a b", "x=1"), "http://127.0.0.1:47480/imgs/a%20b?x=1");
  c.virtual_host = true;
  c.scheme = "https";
  c.host_port = "s3.example.com";
  Client virt(c);
  EXPECT_EQ(virt.Url("abc", ""), "https://imgs.s3.example.com/abc");
  EXPECT_EQ(virt.Url("", ""), "https://imgs.s3.example.com/");
  EXPECT_EQ(virt.Resource("abc"), "bucket imgs key abc");
}

}  // namespace
}  // namespace glimmer::store::s3::internal
