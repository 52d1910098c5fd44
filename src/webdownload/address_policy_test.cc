#include "webdownload/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace glimmer::webdownload {
namespace {

using ::testing::HasSubstr;

// Builds a sockaddr for a numeric IPv4 or IPv6 address.
sockaddr_storage Addr(const char* text) {
  sockaddr_storage ss{};
  auto* in = reinterpret_cast<sockaddr_in*>(&ss);
  if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    return ss;
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
  EXPECT_EQ(inet_pton(AF_INET6, text, &in6->sin6_addr), 1) << text;
  in6->sin6_family = AF_INET6;
  return ss;
}

AddressClass Classify(const char* text) {
  sockaddr_storage ss = Addr(text);
  return ClassifyAddress(reinterpret_cast<const sockaddr*>(&ss));
}

Status Check(const char* text, const AddressPolicyOptions& o = {}, std::string_view host = {}) {
  sockaddr_storage ss = Addr(text);
  return CheckAddress(reinterpret_cast<const sockaddr*>(&ss), o, host);
}

struct Case {
  const char* address;
  AddressClass cls;
};

TEST(AddressPolicyTest, ClassifiesEveryRange) {
  const Case cases[] = {
      {"8.8.8.8", AddressClass::kPublic},
      {"93.184.216.34", AddressClass::kPublic},
      {"127.0.0.1", AddressClass::kLoopback},
      {"127.255.255.254", AddressClass::kLoopback},
      {"0.0.0.0", AddressClass::kUnspecified},
      {"0.1.2.3", AddressClass::kUnspecified},
      {"10.0.0.1", AddressClass::kPrivate},
      {"10.255.255.255", AddressClass::kPrivate},
      {"172.16.0.1", AddressClass::kPrivate},
      {"172.31.255.255", AddressClass::kPrivate},
      {"172.32.0.1", AddressClass::kPublic},
      {"172.15.255.255", AddressClass::kPublic},
      {"192.168.1.1", AddressClass::kPrivate},
      {"198.18.0.1", AddressClass::kPrivate},
      {"100.64.0.1", AddressClass::kSharedCgnat},
      {"100.127.255.255", AddressClass::kSharedCgnat},
      {"100.128.0.1", AddressClass::kPublic},
      {"169.254.0.1", AddressClass::kLinkLocal},
      {"169.254.169.254", AddressClass::kMetadata},
      {"169.254.169.253", AddressClass::kLinkLocal},
      {"224.0.0.1", AddressClass::kMulticast},
      {"239.255.255.250", AddressClass::kMulticast},
      {"255.255.255.255", AddressClass::kBroadcast},
      {"240.0.0.1", AddressClass::kReserved},
      {"192.0.2.1", AddressClass::kReserved},
      {"198.51.100.7", AddressClass::kReserved},
      {"203.0.113.9", AddressClass::kReserved},
      {"192.0.0.8", AddressClass::kReserved},
      {"2606:2800:220:1:248:1893:25c8:1946", AddressClass::kPublic},
      {"::1", AddressClass::kLoopback},
      {"::", AddressClass::kUnspecified},
      {"fe80::1", AddressClass::kLinkLocal},
      {"febf::1", AddressClass::kLinkLocal},
      {"fc00::1", AddressClass::kPrivate},
      {"fd12:3456::1", AddressClass::kPrivate},
      {"fec0::1", AddressClass::kPrivate},
      {"fd00:ec2::254", AddressClass::kMetadata},
      {"ff02::1", AddressClass::kMulticast},
      {"2001:db8::1", AddressClass::kReserved},
      {"2001:0:1::1", AddressClass::kReserved},  // Teredo
      {"100::1", AddressClass::kReserved},
      {"4000::1", AddressClass::kReserved},      // outside 2000::/3
      // IPv6 forms embedding an IPv4 address are judged by it.
      {"::ffff:127.0.0.1", AddressClass::kLoopback},
      {"::ffff:10.1.2.3", AddressClass::kPrivate},
      {"::ffff:169.254.169.254", AddressClass::kMetadata},
      {"::ffff:8.8.8.8", AddressClass::kPublic},
      {"::ffff:0.0.0.0", AddressClass::kUnspecified},
      {"::127.0.0.1", AddressClass::kLoopback},
      {"64:ff9b::a9fe:a9fe", AddressClass::kMetadata},
      {"64:ff9b::808:808", AddressClass::kPublic},
      {"2002:7f00:1::1", AddressClass::kLoopback},
      {"2002:c0a8:101::1", AddressClass::kPrivate},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Classify(c.address), c.cls)
        << c.address << " classified as " << AddressClassName(Classify(c.address));
  }
}

TEST(AddressPolicyTest, OnlyPublicAllowedByDefault) {
  EXPECT_TRUE(Check("8.8.8.8").ok());
  EXPECT_TRUE(Check("2606:2800:220:1::1").ok());
  for (const char* a : {"127.0.0.1", "::1", "0.0.0.0", "::", "10.0.0.1", "172.16.5.4",
                        "192.168.0.1", "100.64.1.1", "169.254.1.1", "fe80::1", "fc00::1",
                        "169.254.169.254", "fd00:ec2::254", "::ffff:127.0.0.1",
                        "::ffff:192.168.0.1", "224.0.0.1", "255.255.255.255", "240.0.0.1"}) {
    Status s = Check(a);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << a;
  }
}

TEST(AddressPolicyTest, MessageNamesAddressHostAndReason) {
  Status s = Check("127.0.0.1", {}, "localhost");
  EXPECT_EQ(s.message(), "address 127.0.0.1 of host localhost is not allowed (loopback)");
  EXPECT_EQ(Check("169.254.169.254").message(),
            "address 169.254.169.254 is not allowed (cloud metadata)");
  EXPECT_THAT(Check("::ffff:10.0.0.1").message(), HasSubstr("(private)"));
  EXPECT_THAT(Check("100.64.0.1").message(), HasSubstr("(shared/CGNAT)"));
  EXPECT_THAT(Check("fe80::1").message(), HasSubstr("(link-local)"));
}

TEST(AddressPolicyTest, AllowPrivateOpensInternalRangesButNotMetadataOrMulticast) {
  AddressPolicyOptions o;
  o.allow_private_addresses = true;
  for (const char* a : {"127.0.0.1", "::1", "10.0.0.1", "192.168.0.1", "172.20.0.1",
                        "100.64.0.1", "169.254.1.1", "fe80::1", "fd12::1", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(Check(a, o).ok()) << a;
  }
  for (const char* a : {"169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254",
                        "224.0.0.1", "ff02::1", "255.255.255.255", "240.0.0.1", "2001:db8::1"}) {
    EXPECT_EQ(Check(a, o).code(), StatusCode::kInvalidArgument) << a;
  }
}

TEST(AddressPolicyTest, AllowedCidrsOpenExactlyTheirRange) {
  AddressPolicyOptions o;
  o.allowed_cidrs = {"10.1.0.0/16", "fd12::/16", "169.254.169.254", "127.0.0.1/32"};
  ASSERT_TRUE(ValidateAddressPolicy(o).ok());
  EXPECT_TRUE(Check("10.1.200.3", o).ok());
  EXPECT_TRUE(Check("::ffff:10.1.200.3", o).ok());  // mapped form is covered too
  EXPECT_FALSE(Check("10.2.0.1", o).ok());
  EXPECT_TRUE(Check("fd12:1::5", o).ok());
  EXPECT_FALSE(Check("fd13::5", o).ok());
  EXPECT_TRUE(Check("169.254.169.254", o).ok());
  EXPECT_TRUE(Check("127.0.0.1", o).ok());
  EXPECT_FALSE(Check("127.0.0.2", o).ok());
  EXPECT_FALSE(Check("::1", o).ok());
}

TEST(AddressPolicyTest, InvalidCidrsAreReported) {
  for (const char* bad : {"10.0.0.0/33", "fd00::/129", "not-an-ip", "10.0.0.0/", "10.0.0/8",
                          "10.0.0.0/x"}) {
    AddressPolicyOptions o;
    o.allowed_cidrs = {bad};
    Status s = ValidateAddressPolicy(o);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr(bad));
    EXPECT_EQ(Check("8.8.8.8", o).code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace glimmer::webdownload
