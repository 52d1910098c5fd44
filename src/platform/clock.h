#pragma once
// Wall-clock time for timestamps shown to users. Tests inject a FakeClock.

#include <atomic>

#include "common/time.h"

namespace glimmer::platform {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixMicros Now() const = 0;
  static Clock& Real();  // process-wide system clock (stateless)
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(UnixMicros start) : now_(start) {}
  UnixMicros Now() const override { return now_.load(); }
  void Advance(UnixMicros d) { now_ += d; }

 private:
  std::atomic<UnixMicros> now_;
};

}  // namespace glimmer::platform
