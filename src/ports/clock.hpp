#pragma once
// Port: the time. Handlers never read the wall clock directly, so tests can set it.

#include <chrono>
#include <cstdint>

namespace qr {

/// A source of the current time.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Now, as wall-clock time.
  virtual std::chrono::system_clock::time_point now() = 0;

  /// Now, in whole epoch seconds.
  std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
  }
  /// Now, in epoch milliseconds.
  std::int64_t now_millis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now().time_since_epoch()).count();
  }
};

/// The real clock.
class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() override { return std::chrono::system_clock::now(); }
};

}  // namespace qr
