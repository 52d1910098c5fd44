#pragma once
// Which resolved IP addresses web-download may connect to (SSRF defence Glance lacks).
//
// Every address is classified; only kPublic is allowed by default. With
// allow_private_addresses the operator also opens loopback, unspecified, link-local, private
// (RFC 1918, fc00::/7, fec0::/10, 198.18/15) and CGNAT (100.64/10) space - tests use it to reach
// 127.0.0.1. Multicast, broadcast, reserved/documentation ranges and the cloud metadata
// addresses (169.254.169.254, fd00:ec2::254) stay refused even then; only an explicit
// allowed_cidrs entry covering the address opens them. IPv4-mapped (::ffff:a.b.c.d),
// IPv4-compatible, NAT64 (64:ff9b::/96) and 6to4 (2002::/16) IPv6 addresses are judged by the
// IPv4 address they embed.
//
// Thread-safety: pure functions.

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace glimmer::webdownload {

struct AddressPolicyOptions {
  bool allow_private_addresses = false;
  // CIDRs ("10.1.0.0/16", "fd12::/64", or a bare address) that are always allowed.
  std::vector<std::string> allowed_cidrs;
};

enum class AddressClass {
  kPublic,
  kLoopback,
  kUnspecified,
  kLinkLocal,
  kPrivate,
  kSharedCgnat,
  kMulticast,
  kBroadcast,
  kReserved,
  kMetadata,
};

// "loopback", "link-local", "private", "cloud metadata", ...
std::string_view AddressClassName(AddressClass c);

// Classifies an AF_INET / AF_INET6 address (other families are kReserved).
AddressClass ClassifyAddress(const sockaddr* addr);

// Numeric form of the address ("127.0.0.1", "::1"); empty for other families.
std::string AddressToString(const sockaddr* addr);

// Returns InvalidArgument if an allowed_cidrs entry does not parse (call at startup).
Status ValidateAddressPolicy(const AddressPolicyOptions& options);

// OK if the address may be connected to; otherwise InvalidArgument
// "address 127.0.0.1 [of host X ]is not allowed (loopback)". `host` only decorates the message.
Status CheckAddress(const sockaddr* addr, const AddressPolicyOptions& options,
                    std::string_view host = {});

}  // namespace glimmer::webdownload
