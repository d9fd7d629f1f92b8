#!/usr/bin/env bash
# Installs what qr-upload needs on Debian 12, as root. Idempotent.
#   scripts/setup.sh          build and run dependencies
#   scripts/setup.sh --test   also the test peers (chromium, botocore, npm packages)
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[[ "${1:-}" == "--test" ]] && want_tests=1

packages=(cmake ninja-build g++ pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev libqrencode-dev libheif-dev libturbojpeg0-dev)
if ((want_tests)); then
  packages+=(libgtest-dev libgmock-dev libbenchmark-dev
    python3 python3-botocore python3-yaml clang-format libheif-examples chromium zip unzip binutils wrk openssl ca-certificates advancecomp shellcheck clang-16 libclang-rt-16-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ((want_tests)); then
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt-get install -y -qq --no-install-recommends nodejs npm
  fi
  # Test peers from the npm registry, pinned by each folder's package-lock.json.
  while IFS= read -r lock; do
    npm ci --prefix "$(dirname "$lock")" --no-audit --no-fund --loglevel=error
  done < <(find tests -name package-lock.json -not -path "*/node_modules/*" | sort)
fi
