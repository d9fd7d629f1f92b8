#!/usr/bin/env bash
# Builds the two Lambda bootstraps for the provided.al2023 runtime and writes
#   dist/http_api_handler.zip  dist/websocket_event_handler.zip
# each holding one stripped executable, `bootstrap`, at its root.
#
# The binaries must start on Amazon Linux 2023 (glibc 2.34): libstdc++/libgcc, OpenSSL and Boost
# are linked statically; the script fails if a glibc symbol newer than GLIBC_2.34 or a shared
# library other than glibc's own (libc, libm, ld-linux) or libstdc++/libgcc_s is needed.
#
# Usage: deploy/package.sh            (env: BUILD_DIR, DIST_DIR, JOBS)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$repo/build-lambda}
dist=${DIST_DIR:-$repo/dist}
jobs=${JOBS:-1}
functions=(http_api_handler websocket_event_handler)
max_glibc=2.34
allowed_needed='^(libc\.so\.6|libm\.so\.6|libgcc_s\.so\.1|libstdc\+\+\.so\.6|ld-linux-x86-64\.so\.2)$'

for tool in cmake ninja zip strip objdump readelf; do
  command -v "$tool" >/dev/null || { echo "package.sh: $tool is required" >&2; exit 1; }
done
for lib in libssl.a libcrypto.a; do
  [[ -e /usr/lib/x86_64-linux-gnu/$lib ]] || { echo "package.sh: static $lib missing (apt-get install libssl-dev)" >&2; exit 1; }
done

# Section-per-function plus --gc-sections (QR_LAMBDA_STATIC) drops what the bootstraps never call.
cmake -S "$repo" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=MinSizeRel \
  -DCMAKE_CXX_FLAGS="-ffunction-sections -fdata-sections" \
  -DQR_LAMBDA_STATIC=ON \
  -DOPENSSL_USE_STATIC_LIBS=ON \
  -DQR_BUILD_TESTS=OFF \
  -DQR_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target "${functions[@]}"

mkdir -p "$dist"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

for fn in "${functions[@]}"; do
  binary=$(find "$build" -type f -name "$fn" -perm -u+x | head -n 1)
  [[ -n "$binary" ]] || { echo "package.sh: $fn was not built" >&2; exit 1; }
  rm -rf "${stage:?}/$fn" && mkdir -p "$stage/$fn"
  cp "$binary" "$stage/$fn/bootstrap"
  strip --strip-all "$stage/$fn/bootstrap"
  chmod 0755 "$stage/$fn/bootstrap"

  # Newest glibc symbol version the binary asks for must not exceed Amazon Linux 2023's.
  newest=$(objdump -T "$stage/$fn/bootstrap" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
  if [[ -n "$newest" && "$(printf '%s\n%s\n' "$newest" "$max_glibc" | sort -V | tail -n 1)" != "$max_glibc" ]]; then
    echo "package.sh: $fn needs GLIBC_$newest (> $max_glibc):" >&2
    objdump -T "$stage/$fn/bootstrap" | grep -E "GLIBC_$newest" >&2
    exit 1
  fi
  needed=$(readelf -d "$stage/$fn/bootstrap" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  for lib in $needed; do
    if ! [[ "$lib" =~ $allowed_needed ]]; then
      echo "package.sh: $fn needs shared library $lib (only glibc, libstdc++, libgcc_s allowed)" >&2
      exit 1
    fi
  done

  # A fixed timestamp keeps the zip byte-identical for identical binaries.
  touch -t 198001010000 "$stage/$fn/bootstrap"
  rm -f "$dist/$fn.zip"
  (cd "$stage/$fn" && zip -q -9 -X "$dist/$fn.zip" bootstrap)
  # advzip (Debian's advancecomp) re-deflates with a zopfli-style search: about 3.5% smaller,
  # still plain deflate that Lambda reads. Optional: without it the zip -9 file stays.
  if command -v advzip >/dev/null; then advzip -q -z -4 "$dist/$fn.zip"; fi
  printf '%s: %s bytes (bootstrap %s bytes, newest glibc %s, needs: %s)\n' \
    "$dist/$fn.zip" "$(stat -c %s "$dist/$fn.zip")" "$(stat -c %s "$stage/$fn/bootstrap")" \
    "${newest:-none}" "$(echo "$needed" | tr '\n' ' ')"
done
