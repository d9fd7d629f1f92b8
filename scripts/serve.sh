#!/usr/bin/env bash
# Sets up, builds and starts `qr-upload serve` with its embedded storage in ./data.
# Extra arguments go to `qr-upload serve` (see --help), e.g. scripts/serve.sh --port 9000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-serve.sh build
exec ./build/src/local/qr-upload serve "$@"
