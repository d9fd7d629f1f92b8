#!/usr/bin/env bash
# Sets up everything the tests need, builds, and runs every test (unit, integration against
# dynalite/s3rver/botocore, the Lambda bootstraps, and the real-browser end-to-end test).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQR_BUILD_TESTS=ON -DQR_BUILD_BENCH=ON \
  -DQR_BUILD_AWS=ON -DQR_BUILD_LAMBDA=ON -DQR_BUILD_LOCAL=ON
cmake --build build
cd build
ctest --output-on-failure --timeout 600 "$@"
