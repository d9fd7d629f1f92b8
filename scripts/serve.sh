#!/usr/bin/env bash
# Sets up, builds and starts `qr-upload serve` with its embedded storage in ./data.
# Extra arguments go to `qr-upload serve` (see --help), e.g. scripts/serve.sh --port 9000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQR_BUILD_TESTS=OFF -DQR_BUILD_BENCH=OFF \
  -DQR_BUILD_AWS=OFF -DQR_BUILD_LAMBDA=OFF >/dev/null
cmake --build build --target qr-upload
exec ./build/src/local/qr-upload serve "$@"
