#include "identity/login_throttle.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace glimmer::identity {
namespace {

std::string UserKey(std::string_view user) { return "u:" + std::string(user); }
std::string AddrKey(std::string_view address) { return "a:" + std::string(address); }

}  // namespace

LoginThrottle::LoginThrottle(LoginThrottleOptions options) : options_(options) {}

std::string LoginThrottle::AddressKey(std::string_view remote_address) {
  std::string_view host = remote_address;
  if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);  // the port
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string text(host);
  unsigned char v6[16];
  if (inet_pton(AF_INET6, text.c_str(), v6) != 1) return text;  // IPv4, or not an address
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char out[INET6_ADDRSTRLEN];
  if (std::memcmp(v6, kMapped, sizeof(kMapped)) == 0) {
    return inet_ntop(AF_INET, v6 + 12, out, sizeof(out)) ? std::string(out) : text;
  }
  std::memset(v6 + 8, 0, 8);
  return inet_ntop(AF_INET6, v6, out, sizeof(out)) ? std::string(out) + "/64" : text;
}

UnixMicros LoginThrottle::WaitLocked(const std::string& key, UnixMicros now) const {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.blocked_until <= now) return 0;
  return std::min(it->second.blocked_until - now, options_.max_delay);  // clock went back
}

void LoginThrottle::EraseLocked(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  lru_.erase(it->second.lru_pos);
  entries_.erase(it);
}

UnixMicros LoginThrottle::CountLocked(std::string key, int threshold, UnixMicros now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    while (!lru_.empty() && entries_.size() >= std::max<size_t>(options_.max_entries, 1)) {
      entries_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(key);
    it = entries_.emplace(std::move(key), Entry{}).first;
    it->second.lru_pos = lru_.begin();
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru_pos);
  }
  Entry& e = it->second;
  if (now - e.last_failure > options_.window) e.failures = 0;
  ++e.failures;
  e.last_failure = now;
  if (e.failures >= threshold) {
    int doublings = std::min(e.failures - threshold, 30);
    UnixMicros delay = options_.base_delay;
    for (int i = 0; i < doublings && delay < options_.max_delay; ++i) delay *= 2;
    e.blocked_until = now + std::min(delay, options_.max_delay);
  }
  return e.blocked_until;
}

void LoginThrottle::UndoLocked(const std::string& key, int threshold,
                               UnixMicros blocked_until) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  if (--e.failures <= 0) {
    EraseLocked(key);
    return;
  }
  // The attempt was admitted, so no wait was running then: the one it started goes with it
  // (unless a later failure has replaced it).
  if (e.failures < threshold || e.blocked_until == blocked_until) e.blocked_until = 0;
}

UnixMicros LoginThrottle::AddressWait(std::string_view address, UnixMicros now) {
  if (address.empty() || options_.address_threshold <= 0) return 0;
  std::lock_guard lock(mu_);
  return WaitLocked(AddrKey(address), now);
}

LoginThrottle::Admission LoginThrottle::Begin(std::string_view user, std::string_view address,
                                              UnixMicros now) {
  const bool by_user = options_.user_threshold > 0;
  const bool by_address = !address.empty() && options_.address_threshold > 0;
  Admission a;
  std::lock_guard lock(mu_);
  if (by_user) a.wait = WaitLocked(UserKey(user), now);
  if (by_address) a.wait = std::max(a.wait, WaitLocked(AddrKey(address), now));
  if (a.wait > 0) return a;
  if (by_user) a.user_blocked_until = CountLocked(UserKey(user), options_.user_threshold, now);
  if (by_address) {
    a.address_blocked_until =
        CountLocked(AddrKey(address), options_.address_threshold, now);
  }
  return a;
}

void LoginThrottle::Succeeded(std::string_view user, std::string_view address,
                              const Admission& admission) {
  std::lock_guard lock(mu_);
  if (options_.user_threshold > 0) EraseLocked(UserKey(user));
  if (!address.empty() && options_.address_threshold > 0) {
    UndoLocked(AddrKey(address), options_.address_threshold, admission.address_blocked_until);
  }
}

void LoginThrottle::Abandoned(std::string_view user, std::string_view address,
                              const Admission& admission) {
  std::lock_guard lock(mu_);
  if (options_.user_threshold > 0) {
    UndoLocked(UserKey(user), options_.user_threshold, admission.user_blocked_until);
  }
  if (!address.empty() && options_.address_threshold > 0) {
    UndoLocked(AddrKey(address), options_.address_threshold, admission.address_blocked_until);
  }
}

size_t LoginThrottle::TrackedKeysForTest() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace glimmer::identity
