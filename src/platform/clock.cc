#include "platform/clock.h"

#include <chrono>

namespace glimmer::platform {
namespace {
class SystemClock final : public Clock {
 public:
  UnixMicros Now() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};
}  // namespace

Clock& Clock::Real() {
  static SystemClock* clock = new SystemClock();  // never destroyed: no static-destruction order
  return *clock;
}

}  // namespace glimmer::platform
