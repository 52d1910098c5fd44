#include "dashboard/request_rules.h"

#include <gtest/gtest.h>

#include "dashboard/session_crypto.h"

namespace glimmer::dashboard {
namespace {

http::Headers WithCookies(std::initializer_list<std::string> values) {
  http::Headers h;
  for (const auto& v : values) h.Add("Cookie", v);
  return h;
}

TEST(Cookies, FindsTheSessionCookieAmongOthers) {
  EXPECT_EQ(FindCookie(WithCookies({"a=1; glimmer_session=abc-_9; b=2"}), kCookieName), "abc-_9");
  EXPECT_EQ(FindCookie(WithCookies({"glimmer_session=x"}), kCookieName), "x");
  EXPECT_EQ(FindCookie(WithCookies({"a=1", "glimmer_session=y"}), kCookieName), "y");
  EXPECT_EQ(FindCookie(WithCookies({"glimmer_session=\"q\""}), kCookieName), "q");
  EXPECT_EQ(FindCookie(WithCookies({"glimmer_session=first; glimmer_session=second"}), kCookieName),
            "first");
}

TEST(Cookies, AbsentEmptyOrLookalikeNamesAreNotFound) {
  EXPECT_FALSE(FindCookie(WithCookies({}), kCookieName));
  EXPECT_FALSE(FindCookie(WithCookies({"glimmer_session="}), kCookieName));
  EXPECT_FALSE(FindCookie(WithCookies({"xglimmer_session=1; glimmer_sessionx=2"}), kCookieName));
  EXPECT_FALSE(FindCookie(WithCookies({"glimmer_session"}), kCookieName));
  http::Headers other;
  other.Add("Set-Cookie", "glimmer_session=1");
  EXPECT_FALSE(FindCookie(other, kCookieName));
}

TEST(Cookies, SetCookieCarriesEveryFlag) {
  EXPECT_EQ(SessionCookie("v", 3599, false),
            "glimmer_session=v; Path=/dashboard/; HttpOnly; SameSite=Strict; Max-Age=3599");
  EXPECT_EQ(SessionCookie("v", 10, true),
            "glimmer_session=v; Path=/dashboard/; HttpOnly; SameSite=Strict; Secure; Max-Age=10");
  EXPECT_EQ(SessionCookie("v", -5, false).substr(SessionCookie("v", -5, false).rfind(';')),
            "; Max-Age=0");
  EXPECT_EQ(ClearedSessionCookie(false),
            "glimmer_session=; Path=/dashboard/; HttpOnly; SameSite=Strict; Max-Age=0");
}

class CsrfTest : public ::testing::Test {
 protected:
  CsrfInput Input(std::string_view method) {
    CsrfInput in;
    in.method = method;
    in.csrf_digest = digest_;
    in.own_origins = {"http://127.0.0.1:9292"};
    return in;
  }
  const std::string token_ = "tok-123";
  const std::string digest_ = Sha256Hex(token_);
};

TEST_F(CsrfTest, SafeMethodsNeedNoToken) {
  EXPECT_EQ(CheckCsrf(Input("GET")), CsrfVerdict::kAllow);
  EXPECT_EQ(CheckCsrf(Input("HEAD")), CsrfVerdict::kAllow);
  CsrfInput typed = Input("GET");
  typed.sec_fetch_site = "none";  // a typed-in URL
  EXPECT_EQ(CheckCsrf(typed), CsrfVerdict::kAllow);
}

TEST_F(CsrfTest, UnsafeMethodsNeedTheRightToken) {
  for (const char* method : {"POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    CsrfInput in = Input(method);
    EXPECT_EQ(CheckCsrf(in), CsrfVerdict::kMissingToken) << method;
    in.csrf_header = "";
    EXPECT_EQ(CheckCsrf(in), CsrfVerdict::kMissingToken) << method;
    in.csrf_header = "tok-124";
    EXPECT_EQ(CheckCsrf(in), CsrfVerdict::kWrongToken) << method;
    in.csrf_header = token_;
    EXPECT_EQ(CheckCsrf(in), CsrfVerdict::kAllow) << method;
  }
}

TEST_F(CsrfTest, EmptySessionDigestMatchesNothing) {
  CsrfInput in = Input("POST");
  in.csrf_digest = "";
  in.csrf_header = "";
  EXPECT_NE(CheckCsrf(in), CsrfVerdict::kAllow);
  in.csrf_header = "x";
  EXPECT_EQ(CheckCsrf(in), CsrfVerdict::kWrongToken);
}

TEST_F(CsrfTest, SecFetchSiteMustBeSameOrigin) {
  for (const char* site : {"cross-site", "same-site", "garbage"}) {
    CsrfInput get = Input("GET");
    get.sec_fetch_site = site;
    EXPECT_EQ(CheckCsrf(get), CsrfVerdict::kCrossSite) << site;
    CsrfInput post = Input("POST");
    post.sec_fetch_site = site;
    post.csrf_header = token_;  // even with the right token
    EXPECT_EQ(CheckCsrf(post), CsrfVerdict::kCrossSite) << site;
  }
  CsrfInput typed_post = Input("POST");
  typed_post.sec_fetch_site = "none";
  typed_post.csrf_header = token_;
  EXPECT_EQ(CheckCsrf(typed_post), CsrfVerdict::kCrossSite);
  CsrfInput same = Input("DELETE");
  same.sec_fetch_site = "Same-Origin";
  same.csrf_header = token_;
  EXPECT_EQ(CheckCsrf(same), CsrfVerdict::kAllow);
}

TEST_F(CsrfTest, ForeignOriginIsRefusedEvenWithTheToken) {
  CsrfInput in = Input("POST");
  in.csrf_header = token_;
  in.origin = "http://localhost:9292";
  EXPECT_EQ(CheckCsrf(in), CsrfVerdict::kForeignOrigin);
  in.origin = "null";
  EXPECT_EQ(CheckCsrf(in), CsrfVerdict::kForeignOrigin);
  in.origin = "HTTP://127.0.0.1:9292";
  EXPECT_EQ(CheckCsrf(in), CsrfVerdict::kAllow);
}

TEST(Origins, OriginOfUrls) {
  EXPECT_EQ(OriginOf("https://Images.Example.com:8443/x?y"), "https://images.example.com:8443");
  EXPECT_EQ(OriginOf("http://h"), "http://h");
  EXPECT_EQ(OriginOf("ftp://h"), "");
}

TEST(Negotiation, AcceptsGzip) {
  EXPECT_TRUE(AcceptsGzip("gzip, deflate, br"));
  EXPECT_TRUE(AcceptsGzip("br;q=1.0, GZIP;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0.000, *"));
  EXPECT_FALSE(AcceptsGzip("gzipx"));
}

TEST(Negotiation, EtagMatches) {
  EXPECT_TRUE(EtagMatches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(EtagMatches("\"x\", W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(EtagMatches("*", "\"abc\""));
  EXPECT_FALSE(EtagMatches("\"abc-gz\"", "\"abc\""));
  EXPECT_FALSE(EtagMatches("abc", "\"abc\""));
  EXPECT_FALSE(EtagMatches("", "\"abc\""));
}

TEST(Negotiation, WantsHtml) {
  EXPECT_TRUE(WantsHtml("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
  EXPECT_TRUE(WantsHtml("TEXT/HTML"));
  EXPECT_FALSE(WantsHtml("*/*"));
  EXPECT_FALSE(WantsHtml("application/json"));
  EXPECT_FALSE(WantsHtml(""));
  EXPECT_FALSE(WantsHtml("text/html;q=0"));
}

}  // namespace
}  // namespace glimmer::dashboard
