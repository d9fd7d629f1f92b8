#pragma once
// Hashes, MACs, encodings and the CSPRNG, over OpenSSL. Only this library includes OpenSSL headers.

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "ports/random.hpp"

namespace qr::crypto {

using Digest = std::array<unsigned char, 32>;

/// SHA-256 of `data`.
Digest sha256(std::string_view data);
/// HMAC-SHA256 of `data` under `key`.
Digest hmac_sha256(std::string_view key, std::string_view data);
/// HMAC-SHA256 keyed by a previous digest (SigV4's key derivation chain).
Digest hmac_sha256(const Digest& key, std::string_view data);

/// Lowercase hex of `bytes`.
std::string hex(std::span<const unsigned char> bytes);
inline std::string hex(const Digest& d) {
  return hex(std::span<const unsigned char>(d));
}
/// Lowercase hex SHA-256 of `data`.
inline std::string sha256_hex(std::string_view data) {
  return hex(sha256(data));
}

/// URL-safe base64 without padding (RFC 4648 section 5).
std::string base64url(std::span<const unsigned char> bytes);

/// Compares in time independent of where the inputs differ.
bool constant_time_equal(std::string_view a, std::string_view b);

/// The operating system's CSPRNG through OpenSSL's RAND_bytes; aborts if it cannot be seeded.
class OsRandom final : public Random {
 public:
  void fill(std::span<std::byte> out) override;
};

}  // namespace qr::crypto
