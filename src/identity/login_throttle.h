#pragma once
// Slows down password guessing against the embedded identity service.
//
// Failed password checks are counted per key: one per user and one per client address. Once a
// key has `threshold` failures, each separated from the previous one by less than `window`,
// attempts for it are refused for base_delay, then twice that after the next failure, and so on
// up to max_delay. A refused attempt checks no password and counts nothing, so an attacker can
// keep a user waiting at most max_delay after each of its own failures, never lock it out for
// good. A successful check clears the user's count but not the address's (an attacker holding
// an account of its own could otherwise reset its address between guesses at other users).
//
// An attempt counts as failed from the moment it is admitted (Begin); Succeeded or Abandoned
// takes that back. So many concurrent guesses cannot all pass before the first failure is
// recorded: once the threshold is reached, the next admitted attempt starts the delay.
//
// Memory is bounded: at most max_entries keys are tracked; when full, the key whose last
// failure is the oldest is forgotten.
//
// The state is per process: each node of a cluster throttles on its own.
//
// Thread-safety: all methods may be called concurrently.

#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/time.h"

namespace glimmer::identity {

struct LoginThrottleOptions {
  int user_threshold = 5;       // failures of one user before it waits; 0 = never
  int address_threshold = 20;   // failures from one address before it waits; 0 = never
  UnixMicros window = 900LL * 1'000'000;      // a failure older than this is forgotten
  UnixMicros base_delay = 1LL * 1'000'000;    // first wait
  UnixMicros max_delay = 30LL * 1'000'000;    // longest wait
  size_t max_entries = 10000;                 // keys tracked (users + addresses)
};

class LoginThrottle {
 public:
  explicit LoginThrottle(LoginThrottleOptions options);
  LoginThrottle(const LoginThrottle&) = delete;
  LoginThrottle& operator=(const LoginThrottle&) = delete;

  // How long `address` (an AddressKey) must still wait at `now`; 0 when it may try. Cheap: for
  // refusing before any lookup. An empty address is never throttled.
  UnixMicros AddressWait(std::string_view address, UnixMicros now);

  struct Admission {
    UnixMicros wait = 0;  // > 0: refused for this long; nothing was counted
    // The waits this attempt's failure would start (taken back with the failure).
    UnixMicros user_blocked_until = 0;
    UnixMicros address_blocked_until = 0;
  };
  // Admits an attempt by `user` from `address` (an AddressKey, may be empty): when neither must
  // wait, counts a failure for both; otherwise counts nothing and returns the longer wait.
  Admission Begin(std::string_view user, std::string_view address, UnixMicros now);
  // The admitted attempt checked the password and it was right: the user's count is cleared and
  // the address's failure taken back.
  void Succeeded(std::string_view user, std::string_view address, const Admission& admission);
  // The admitted attempt ended without checking a password (e.g. a database error).
  void Abandoned(std::string_view user, std::string_view address, const Admission& admission);

  // The throttling key of a client "ip:port" (http::Request::remote_address): the address
  // without the port; an IPv4-mapped IPv6 address as IPv4; other IPv6 addresses reduced to
  // their /64 (one host usually holds a whole /64).
  static std::string AddressKey(std::string_view remote_address);

  size_t TrackedKeysForTest() const;

 private:
  struct Entry {
    int failures = 0;
    UnixMicros last_failure = 0;
    UnixMicros blocked_until = 0;
    std::list<std::string>::iterator lru_pos;
  };

  UnixMicros WaitLocked(const std::string& key, UnixMicros now) const;
  // Returns the entry's blocked_until afterwards.
  UnixMicros CountLocked(std::string key, int threshold, UnixMicros now);
  void UndoLocked(const std::string& key, int threshold, UnixMicros blocked_until);
  void EraseLocked(const std::string& key);

  const LoginThrottleOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // "u:" + user or "a:" + address; mu_
  std::list<std::string> lru_;                      // front = latest failure; guarded by mu_
};

}  // namespace glimmer::identity
