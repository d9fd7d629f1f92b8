#pragma once
// Port: randomness for session ids and desktop tokens. Production uses a CSPRNG only.

#include <cstddef>
#include <span>

namespace qr {

/// A source of unpredictable bytes.
class Random {
 public:
  virtual ~Random() = default;
  /// Fills `out` with random bytes.
  virtual void fill(std::span<std::byte> out) = 0;
};

}  // namespace qr
