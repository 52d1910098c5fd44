#include "webdownload/url_filter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace glimmer::webdownload {
namespace {

using ::testing::HasSubstr;

Status Check(std::string_view url, const UrlFilterOptions& o = {}) { return ValidateUrl(url, o); }

void ExpectRejected(std::string_view url, std::string_view rule, const UrlFilterOptions& o = {}) {
  Status s = Check(url, o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << url;
  EXPECT_THAT(s.message(), HasSubstr(std::string(rule))) << url << ": " << s.message();
}

TEST(UrlFilterTest, DefaultsAllowPlainHttpAndHttps) {
  EXPECT_TRUE(Check("http://images.example.com/cirros.img").ok());
  EXPECT_TRUE(Check("https://images.example.com:443/a/b?x=1").ok());
  EXPECT_TRUE(Check("http://93.184.216.34/x").ok());
  EXPECT_TRUE(Check("http://[2606:2800:220:1::1]/x").ok());
}

TEST(UrlFilterTest, SchemesOutsideDefaultsAreRejected) {
  ExpectRejected("file:///etc/passwd", "scheme 'file' is not allowed");
  ExpectRejected("file://localhost/etc/passwd", "scheme 'file' is not allowed");
  ExpectRejected("ftp://example.com/x", "scheme 'ftp' is not allowed");
  ExpectRejected("gopher://example.com:80/x", "scheme 'gopher' is not allowed");
}

TEST(UrlFilterTest, UppercaseSchemeAndHostAreNormalised) {
  auto v = ParseAndValidateUrl("HTTP://Images.EXAMPLE.com./Path/X", {});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->scheme, "http");
  EXPECT_EQ(v->host, "images.example.com");
  EXPECT_EQ(v->port, 80);
  EXPECT_EQ(v->url, "http://images.example.com/Path/X");
  ExpectRejected("FTP://example.com/x", "scheme 'ftp' is not allowed");
}

TEST(UrlFilterTest, MissingSchemeOrHostIsRejected) {
  ExpectRejected("", "empty URL");
  ExpectRejected("example.com/x", "not a valid absolute URI");
  ExpectRejected("//example.com/x", "not a valid absolute URI");
  ExpectRejected("http:///x", "missing host");
  ExpectRejected("http:x", "missing host");
}

TEST(UrlFilterTest, EncodedIpFormsAreRejected) {
  for (const char* url : {"http://127.1/", "http://2130706433/", "http://0x7f000001/",
                          "http://0x7f.1/", "http://0177.0.0.1/", "http://127.0.0.01/",
                          "http://127.000.000.001/", "http://10.0.1/", "http://0x7f.0x0.0x0.0x1/",
                          "http://256.1.1.1/", "http://0x/", "http://1.0x4/"}) {
    ExpectRejected(url, "numeric or shorthand IP address form");
  }
}

TEST(UrlFilterTest, PercentEncodedHostIsDecodedBeforeChecks) {
  auto v = ParseAndValidateUrl("http://%31%32%37.0.0.1/", {});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->host, "127.0.0.1");
  EXPECT_TRUE(v->host_is_ip);
  ExpectRejected("http://%32%31%33%30%37%30%36%34%33%33/", "numeric or shorthand");
  UrlFilterOptions deny;
  deny.allowed_hosts = {};
  deny.disallowed_hosts = {"evil.example"};
  ExpectRejected("http://%65vil.example/", "is in disallowed_hosts", deny);
  ExpectRejected("http://a%2fb.example/", "characters not allowed");
  ExpectRejected("http://a%00b.example/", "characters not allowed");
  ExpectRejected("http://%5B::1%5D/", "URL rejected");
  ExpectRejected("http://%5B%3A%3A1%5D/", "characters not allowed");
}

TEST(UrlFilterTest, LiteralAddressesPassTheFilterAndAreLeftToTheAddressPolicy) {
  // The filter is about form; 127.0.0.1, [::1] and 169.254.169.254 are refused by
  // CheckAddress (address_policy_test.cc), unless listed in disallowed_hosts.
  auto v6 = ParseAndValidateUrl("http://[0:0::1]/", {});
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_TRUE(v6->host_is_ipv6);
  EXPECT_EQ(v6->url, "http://[::1]/");
  UrlFilterOptions o;
  o.disallowed_hosts = {"169.254.169.254", "[::1]"};
  ExpectRejected("http://169.254.169.254/latest/meta-data/", "disallowed_hosts", o);
  ExpectRejected("http://[::1]/", "disallowed_hosts", o);
  ExpectRejected("http://[0::1]/", "disallowed_hosts", o);
}

TEST(UrlFilterTest, NonDefaultPortsRejectedUnlessAllowed) {
  ExpectRejected("http://example.com:8080/x", "port 8080 is not allowed");
  EXPECT_TRUE(Check("https://example.com:80/x").ok());  // 80 is in the default list
  UrlFilterOptions o;
  o.allowed_ports = {8080};
  EXPECT_TRUE(Check("http://example.com:8080/x", o).ok());
  ExpectRejected("http://example.com/x", "port 80 is not allowed", o);
  ExpectRejected("http://example.com:99999/x", "invalid port");
  ExpectRejected("http://example.com:0/x", "invalid port");
}

TEST(UrlFilterTest, HttpsOnDefaultPortOnly) {
  EXPECT_TRUE(Check("https://example.com/x").ok());
  UrlFilterOptions o;
  o.allowed_ports = {80};
  ExpectRejected("https://example.com/x", "port 443 is not allowed", o);
}

TEST(UrlFilterTest, DenyListsApplyOnlyWithoutAllowList) {
  UrlFilterOptions o;
  o.allowed_schemes = {};
  o.disallowed_schemes = {"ftp"};
  o.allowed_ports = {};
  o.disallowed_ports = {8080, 80};
  ExpectRejected("ftp://example.com:21/x", "scheme 'ftp'", o);
  EXPECT_TRUE(Check("gopher://example.com:70/x", o).ok());
  ExpectRejected("http://example.com:8080/", "port 8080", o);
  ExpectRejected("http://example.com/", "port 80", o);  // effective port counts
  EXPECT_TRUE(Check("http://example.com:81/", o).ok());

  // Both lists set: only the allow list counts.
  UrlFilterOptions both;
  both.allowed_hosts = {"Mirror.Example.org"};
  both.disallowed_hosts = {"mirror.example.org"};
  EXPECT_TRUE(Check("http://mirror.example.org/x", both).ok());
  ExpectRejected("http://other.example.org/x", "not in allowed_hosts", both);
  both.allowed_ports = {80};
  both.disallowed_ports = {80};
  EXPECT_TRUE(Check("http://mirror.example.org/x", both).ok());
  both.allowed_schemes = {"HTTP"};
  both.disallowed_schemes = {"http"};
  EXPECT_TRUE(Check("http://mirror.example.org/x", both).ok());
  ExpectRejected("https://mirror.example.org/x", "scheme 'https'", both);
}

TEST(UrlFilterTest, UserinfoIsRejected) {
  ExpectRejected("http://allowed.example.com@127.0.0.1/", "user information");
  ExpectRejected("http://user:pass@example.com/", "user information");
  ExpectRejected("http://@example.com/", "user information");
  ExpectRejected("http://example.com%40evil.com/", "characters not allowed");
  // A '#@' or '?@' trick leaves the authority alone: the host is what Boost.URL parsed.
  auto v = ParseAndValidateUrl("http://example.com#@127.0.0.1/", {});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->host, "example.com");
  EXPECT_EQ(v->url, "http://example.com/");
}

TEST(UrlFilterTest, MalformedUrlsAreRejected) {
  ExpectRejected("http://exa mple.com/", "not a valid absolute URI");
  ExpectRejected("http://example.com\\@127.0.0.1/", "not a valid absolute URI");
  ExpectRejected("http://[::1/", "not a valid absolute URI");
  ExpectRejected("http://ex_am..ple.com/", "empty label");
  ExpectRejected("http://1.2.3.4.5/", "malformed authority");
  ExpectRejected("http://1.2.3.4x/", "malformed authority");
  ExpectRejected("http://1.2.3.4.5:80/", "malformed authority");
  ExpectRejected("http://bücher.example/", "not a valid absolute URI");
}

}  // namespace
}  // namespace glimmer::webdownload
