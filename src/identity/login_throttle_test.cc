#include "identity/login_throttle.h"

#include <gtest/gtest.h>

namespace glimmer::identity {
namespace {

constexpr UnixMicros kSecond = 1'000'000;

LoginThrottleOptions Options() {
  LoginThrottleOptions o;
  o.user_threshold = 3;
  o.address_threshold = 5;
  o.window = 600 * kSecond;
  o.base_delay = 1 * kSecond;
  o.max_delay = 8 * kSecond;
  o.max_entries = 100;
  return o;
}

// Admits an attempt and lets it fail (Begin already counted it); returns the wait if refused.
UnixMicros Fail(LoginThrottle& t, std::string_view user, std::string_view addr, UnixMicros now) {
  return t.Begin(user, addr, now).wait;
}

// The wait a new attempt would get (an admitted one is counted as a failure).
UnixMicros Wait(LoginThrottle& t, std::string_view user, std::string_view addr, UnixMicros now) {
  return t.Begin(user, addr, now).wait;
}

// Admits an attempt that turns out right.
void Succeed(LoginThrottle& t, std::string_view user, std::string_view addr, UnixMicros now) {
  LoginThrottle::Admission a = t.Begin(user, addr, now);
  ASSERT_EQ(a.wait, 0);
  t.Succeeded(user, addr, a);
}

TEST(LoginThrottleTest, UserWaitsAfterThresholdWithGrowingCappedDelay) {
  LoginThrottle t(Options());
  UnixMicros now = 1000 * kSecond;
  EXPECT_EQ(Fail(t, "alice", "", now), 0);
  EXPECT_EQ(Fail(t, "alice", "", now), 0);
  EXPECT_EQ(Fail(t, "alice", "", now), 0);  // the third failure starts a 1 s wait
  EXPECT_EQ(Wait(t, "alice", "", now), 1 * kSecond);
  EXPECT_EQ(Wait(t, "alice", "", now + kSecond / 2), kSecond / 2);  // refused: nothing counted
  EXPECT_EQ(Wait(t, "bob", "", now), 0);  // other users are not affected
  // Each further failure doubles the wait, up to max_delay.
  UnixMicros expected[] = {2, 4, 8, 8, 8};
  for (UnixMicros e : expected) {
    now += 60 * kSecond;
    EXPECT_EQ(Fail(t, "alice", "", now), 0);
    EXPECT_EQ(Wait(t, "alice", "", now), e * kSecond);
  }
  // A success clears the user's count.
  now += 60 * kSecond;
  Succeed(t, "alice", "", now);
  EXPECT_EQ(Fail(t, "alice", "", now), 0);
  EXPECT_EQ(Wait(t, "alice", "", now), 0);  // one failure only
}

TEST(LoginThrottleTest, FailuresOlderThanTheWindowAreForgotten) {
  LoginThrottle t(Options());
  UnixMicros now = 1000 * kSecond;
  Fail(t, "alice", "", now);
  Fail(t, "alice", "", now + 300 * kSecond);
  now += 300 * kSecond + 601 * kSecond;  // more than a window after the last failure
  EXPECT_EQ(Fail(t, "alice", "", now), 0);
  EXPECT_EQ(Wait(t, "alice", "", now), 0);  // counts 1 again, then 2: no wait yet
}

TEST(LoginThrottleTest, AddressIsThrottledAcrossUsersAndNotResetBySuccess) {
  LoginThrottle t(Options());
  UnixMicros now = 1000 * kSecond;
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Fail(t, "user" + std::to_string(i), "10.0.0.1", now), 0);
  }
  // A success from that address does not clear it (it takes back only its own attempt).
  Succeed(t, "mine", "10.0.0.1", now);
  EXPECT_EQ(t.AddressWait("10.0.0.1", now), 0);
  EXPECT_EQ(Fail(t, "user9", "10.0.0.1", now), 0);  // the fifth failure
  EXPECT_EQ(t.AddressWait("10.0.0.1", now), 1 * kSecond);
  EXPECT_EQ(Wait(t, "anyone", "10.0.0.1", now), 1 * kSecond);
  EXPECT_EQ(t.AddressWait("10.0.0.2", now), 0);
  EXPECT_EQ(Wait(t, "anyone", "10.0.0.2", now), 0);
}

TEST(LoginThrottleTest, ConcurrentAttemptsCountWhenAdmitted) {
  LoginThrottle t(Options());
  UnixMicros now = 1000 * kSecond;
  // Three attempts in flight at once: the third admission reaches the threshold, so a fourth
  // one is refused before any of them has finished.
  LoginThrottle::Admission a1 = t.Begin("alice", "", now);
  LoginThrottle::Admission a2 = t.Begin("alice", "", now);
  LoginThrottle::Admission a3 = t.Begin("alice", "", now);
  EXPECT_EQ(a1.wait + a2.wait + a3.wait, 0);
  EXPECT_GT(Wait(t, "alice", "", now), 0);
  // An attempt that ends without a password check is taken back, with the wait it started.
  t.Abandoned("alice", "", a3);
  EXPECT_EQ(Wait(t, "alice", "", now), 0);  // admitted: the third failure again
  EXPECT_GT(Wait(t, "alice", "", now), 0);
}

TEST(LoginThrottleTest, SuccessAfterAWaitDoesNotStartAnotherForTheAddress) {
  LoginThrottle t(Options());
  UnixMicros now = 1000 * kSecond;
  for (int i = 0; i < 5; ++i) Fail(t, "user" + std::to_string(i), "10.0.0.1", now);
  ASSERT_EQ(t.AddressWait("10.0.0.1", now), 1 * kSecond);
  now += 1 * kSecond;
  Succeed(t, "mine", "10.0.0.1", now);  // admitted once the wait is over
  EXPECT_EQ(t.AddressWait("10.0.0.1", now), 0);
  EXPECT_EQ(Fail(t, "user9", "10.0.0.1", now), 0);  // the sixth failure: 2 s now
  EXPECT_EQ(t.AddressWait("10.0.0.1", now), 2 * kSecond);
}

TEST(LoginThrottleTest, ZeroThresholdDisables) {
  LoginThrottleOptions o = Options();
  o.user_threshold = 0;
  o.address_threshold = 0;
  LoginThrottle t(o);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(Fail(t, "alice", "10.0.0.1", 0), 0);
  EXPECT_EQ(t.TrackedKeysForTest(), 0u);
}

TEST(LoginThrottleTest, MemoryIsBoundedOldestForgottenFirst) {
  LoginThrottleOptions o = Options();
  o.max_entries = 10;
  LoginThrottle t(o);
  UnixMicros now = 1000 * kSecond;
  for (int i = 0; i < 3; ++i) Fail(t, "victim", "", now);
  ASSERT_GT(Wait(t, "victim", "", now), 0);
  for (int i = 0; i < 9; ++i) Fail(t, "u" + std::to_string(i), "", now + 1);
  EXPECT_EQ(t.TrackedKeysForTest(), 10u);
  EXPECT_GT(Wait(t, "victim", "", now + 2), 0);  // still tracked
  Fail(t, "one-more", "", now + 3);
  EXPECT_EQ(t.TrackedKeysForTest(), 10u);
  EXPECT_EQ(Wait(t, "victim", "", now + 4), 0);  // the oldest key went first
}

TEST(LoginThrottleTest, AddressKeys) {
  EXPECT_EQ(LoginThrottle::AddressKey("192.0.2.7:40000"), "192.0.2.7");
  EXPECT_EQ(LoginThrottle::AddressKey("::ffff:192.0.2.7:40000"), "192.0.2.7");
  EXPECT_EQ(LoginThrottle::AddressKey("2001:db8:1:2:3:4:5:6:443"), "2001:db8:1:2::/64");
  EXPECT_EQ(LoginThrottle::AddressKey("[2001:db8:1:2:3:4:5:6]:443"), "2001:db8:1:2::/64");
  EXPECT_EQ(LoginThrottle::AddressKey("::1:5000"), "::/64");
  EXPECT_EQ(LoginThrottle::AddressKey(""), "");
}

}  // namespace
}  // namespace glimmer::identity
