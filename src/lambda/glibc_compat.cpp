// Linked into the packaged bootstraps only (QR_LAMBDA_STATIC). The static libstdc++ of the build
// machine was compiled against glibc 2.36 and calls arc4random (GLIBC_2.36) from
// std::random_device; Amazon Linux 2023 has glibc 2.34, so the binary would fail to start there.
// A definition in the executable wins over the shared one at link time; this one draws from
// getrandom(2) (GLIBC_2.25), the same kernel CSPRNG glibc's arc4random uses.

#include <stdlib.h>
#include <sys/random.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

extern "C" {

void arc4random_buf(void* buffer, std::size_t size) noexcept {
  auto* out = static_cast<unsigned char*>(buffer);
  while (size > 0) {
    const ssize_t n = ::getrandom(out, size, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      // glibc's arc4random never fails either: without entropy there is no safe way on.
      ::abort();
    }
    out += n;
    size -= static_cast<std::size_t>(n);
  }
}

std::uint32_t arc4random() noexcept {
  std::uint32_t value = 0;
  arc4random_buf(&value, sizeof value);
  return value;
}

std::uint32_t arc4random_uniform(std::uint32_t upper_bound) noexcept {
  if (upper_bound < 2) return 0;
  // Rejection sampling: drop the values that would bias the modulo.
  const std::uint32_t min = -upper_bound % upper_bound;
  for (;;) {
    const std::uint32_t r = arc4random();
    if (r >= min) return r % upper_bound;
  }
}

}  // extern "C"
