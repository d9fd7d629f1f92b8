#!/usr/bin/env bash
# Configures and builds qr-upload alone, as the README's run command does (no tests, benchmarks or
# AWS code). scripts/build-serve.sh [BUILD_DIR] (default: build). CI builds this configuration too.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQR_BUILD_TESTS=OFF \
  -DQR_BUILD_BENCH=OFF -DQR_BUILD_AWS=OFF -DQR_BUILD_LAMBDA=OFF -DQR_BUILD_LOCAL=ON >/dev/null
cmake --build "$dir" --target qr-upload
