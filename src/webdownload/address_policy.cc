#include "webdownload/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <charconv>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

namespace glimmer::webdownload {
namespace {

// An address as 16 bytes; IPv4 is stored IPv4-mapped so one prefix matcher serves both.
struct Bytes16 {
  std::array<uint8_t, 16> b{};
  bool v4 = false;
};

Bytes16 FromV4(const uint8_t* p) {
  Bytes16 out;
  out.b[10] = out.b[11] = 0xff;
  std::memcpy(&out.b[12], p, 4);
  out.v4 = true;
  return out;
}

std::optional<Bytes16> FromSockaddr(const sockaddr* addr) {
  if (addr == nullptr) return std::nullopt;
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    return FromV4(reinterpret_cast<const uint8_t*>(&in->sin_addr));
  }
  if (addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    Bytes16 out;
    std::memcpy(out.b.data(), &in6->sin6_addr, 16);
    return out;
  }
  return std::nullopt;
}

bool PrefixMatch(const Bytes16& a, const Bytes16& net, int bits) {
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((a.b[i] & mask) != (net.b[i] & mask)) return false;
  }
  return true;
}

struct Cidr {
  Bytes16 net;
  int bits = 0;  // over the 128-bit (mapped) form
};

std::optional<Cidr> ParseCidr(std::string_view text) {
  std::string addr(text.substr(0, text.find('/')));
  std::optional<int> prefix;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    std::string_view p = text.substr(slash + 1);
    int v = -1;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (p.empty() || ec != std::errc() || ptr != p.data() + p.size()) return std::nullopt;
    prefix = v;
  }
  Cidr c;
  uint8_t buf[16];
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1) {
    int p = prefix.value_or(32);
    if (p < 0 || p > 32) return std::nullopt;
    c.net = FromV4(buf);
    c.bits = 96 + p;
    return c;
  }
  if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) {
    int p = prefix.value_or(128);
    if (p < 0 || p > 128) return std::nullopt;
    std::memcpy(c.net.b.data(), buf, 16);
    c.bits = p;
    return c;
  }
  return std::nullopt;
}

struct Range {
  const char* cidr;
  AddressClass cls;
};

// Order matters: the first match wins (the metadata /32 before link-local, broadcast before 240/4).
constexpr Range kV4Ranges[] = {
    {"169.254.169.254/32", AddressClass::kMetadata},
    {"255.255.255.255/32", AddressClass::kBroadcast},
    {"0.0.0.0/8", AddressClass::kUnspecified},
    {"10.0.0.0/8", AddressClass::kPrivate},
    {"100.64.0.0/10", AddressClass::kSharedCgnat},
    {"127.0.0.0/8", AddressClass::kLoopback},
    {"169.254.0.0/16", AddressClass::kLinkLocal},
    {"172.16.0.0/12", AddressClass::kPrivate},
    {"192.0.0.0/24", AddressClass::kReserved},
    {"192.0.2.0/24", AddressClass::kReserved},
    {"192.88.99.0/24", AddressClass::kReserved},
    {"192.168.0.0/16", AddressClass::kPrivate},
    {"198.18.0.0/15", AddressClass::kPrivate},
    {"198.51.100.0/24", AddressClass::kReserved},
    {"203.0.113.0/24", AddressClass::kReserved},
    {"224.0.0.0/4", AddressClass::kMulticast},
    {"240.0.0.0/4", AddressClass::kReserved},
};

constexpr Range kV6Ranges[] = {
    {"::/128", AddressClass::kUnspecified},
    {"::1/128", AddressClass::kLoopback},
    {"fd00:ec2::254/128", AddressClass::kMetadata},
    {"fc00::/7", AddressClass::kPrivate},
    {"fe80::/10", AddressClass::kLinkLocal},
    {"fec0::/10", AddressClass::kPrivate},
    {"ff00::/8", AddressClass::kMulticast},
    {"100::/64", AddressClass::kReserved},
    {"2001::/32", AddressClass::kReserved},      // Teredo: tunnels to an arbitrary endpoint
    {"2001:db8::/32", AddressClass::kReserved},  // documentation
};

using Table = std::vector<std::pair<Cidr, AddressClass>>;

template <size_t N>
Table BuildTable(const Range (&ranges)[N]) {
  Table t;
  for (const Range& r : ranges) t.emplace_back(*ParseCidr(r.cidr), r.cls);
  return t;
}

AddressClass Lookup(const Table& table, const Bytes16& a) {
  for (const auto& [cidr, cls] : table) {
    if (PrefixMatch(a, cidr.net, cidr.bits)) return cls;
  }
  return AddressClass::kPublic;
}

AddressClass ClassifyV4(const Bytes16& a) {
  static const Table kTable = BuildTable(kV4Ranges);
  return Lookup(kTable, a);
}

AddressClass Classify(const Bytes16& a) {
  static const Cidr kMapped = *ParseCidr("::ffff:0:0/96");
  if (a.v4 || PrefixMatch(a, kMapped.net, kMapped.bits)) return ClassifyV4(FromV4(&a.b[12]));
  // IPv6 forms embedding an IPv4 address are judged by that address.
  static const Cidr kNat64 = *ParseCidr("64:ff9b::/96");
  if (PrefixMatch(a, kNat64.net, kNat64.bits)) return ClassifyV4(FromV4(&a.b[12]));
  static const Cidr k6to4 = *ParseCidr("2002::/16");
  if (PrefixMatch(a, k6to4.net, k6to4.bits)) return ClassifyV4(FromV4(&a.b[2]));
  static const Table kV6Table = BuildTable(kV6Ranges);
  if (AddressClass c = Lookup(kV6Table, a); c != AddressClass::kPublic) return c;
  // IPv4-compatible ::a.b.c.d (deprecated), after :: and ::1 were handled above.
  static const Cidr kCompat = *ParseCidr("::/96");
  if (PrefixMatch(a, kCompat.net, kCompat.bits)) return ClassifyV4(FromV4(&a.b[12]));
  // Only global unicast 2000::/3 is public.
  static const Cidr kGlobal = *ParseCidr("2000::/3");
  if (!PrefixMatch(a, kGlobal.net, kGlobal.bits)) return AddressClass::kReserved;
  return AddressClass::kPublic;
}

bool OpenedByPrivateOption(AddressClass c) {
  switch (c) {
    case AddressClass::kLoopback:
    case AddressClass::kUnspecified:
    case AddressClass::kLinkLocal:
    case AddressClass::kPrivate:
    case AddressClass::kSharedCgnat:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string_view AddressClassName(AddressClass c) {
  switch (c) {
    case AddressClass::kPublic: return "public";
    case AddressClass::kLoopback: return "loopback";
    case AddressClass::kUnspecified: return "unspecified";
    case AddressClass::kLinkLocal: return "link-local";
    case AddressClass::kPrivate: return "private";
    case AddressClass::kSharedCgnat: return "shared/CGNAT";
    case AddressClass::kMulticast: return "multicast";
    case AddressClass::kBroadcast: return "broadcast";
    case AddressClass::kReserved: return "reserved";
    case AddressClass::kMetadata: return "cloud metadata";
  }
  return "unknown";
}

AddressClass ClassifyAddress(const sockaddr* addr) {
  std::optional<Bytes16> a = FromSockaddr(addr);
  return a ? Classify(*a) : AddressClass::kReserved;
}

std::string AddressToString(const sockaddr* addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr == nullptr) return {};
  if (addr->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, buf, sizeof buf);
  } else if (addr->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

Status ValidateAddressPolicy(const AddressPolicyOptions& options) {
  for (const std::string& c : options.allowed_cidrs) {
    if (!ParseCidr(c)) return InvalidArgumentError("invalid CIDR in allowed_cidrs: '" + c + "'");
  }
  return OkStatus();
}

Status CheckAddress(const sockaddr* addr, const AddressPolicyOptions& options,
                    std::string_view host) {
  std::optional<Bytes16> a = FromSockaddr(addr);
  std::string text = AddressToString(addr);
  std::string of_host = host.empty() ? "" : " of host " + std::string(host);
  if (!a) return InvalidArgumentError("address family of host" + of_host + " is not allowed");
  for (const std::string& c : options.allowed_cidrs) {
    std::optional<Cidr> cidr = ParseCidr(c);
    if (!cidr) return InvalidArgumentError("invalid CIDR in allowed_cidrs: '" + c + "'");
    // An IPv4 CIDR also covers the IPv4-mapped IPv6 form (same 128-bit representation).
    if (PrefixMatch(*a, cidr->net, cidr->bits)) return OkStatus();
  }
  AddressClass cls = Classify(*a);
  if (cls == AddressClass::kPublic) return OkStatus();
  if (options.allow_private_addresses && OpenedByPrivateOption(cls)) return OkStatus();
  return InvalidArgumentError("address " + text + of_host + " is not allowed (" +
                              std::string(AddressClassName(cls)) + ")");
}

}  // namespace glimmer::webdownload
