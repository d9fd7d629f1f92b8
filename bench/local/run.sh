#!/usr/bin/env bash
# Benchmark of `qr-upload serve` on loopback: prints figures, passes or fails nothing.
# Not part of ctest. See bench/local/README.md for what each figure means and the knobs.
#
#   bash bench/local/run.sh [path-to-qr-upload]
#
# Default binary: build/src/local/qr-upload of this checkout. It is not built here.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
binary="${1:-$root/build/src/local/qr-upload}"

if [[ ! -x "$binary" ]]; then
  echo "run.sh: no executable qr-upload at $binary (build it first, or pass its path)" >&2
  exit 2
fi

# Tools: wrk and curl from Debian, node + npm for the WebSocket clients.
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
command -v dd >/dev/null || missing+=(coreutils)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "run.sh: installing ${missing[*]}" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "run.sh: missing ${missing[*]}; install them (Debian: apt-get install -y ${missing[*]})" >&2
    exit 2
  fi
fi

# Optional: libeatmydata, for section 1's diagnosis run without fsync (skipped if absent).
if [[ ! -e /usr/lib/x86_64-linux-gnu/libeatmydata.so && $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq eatmydata >/dev/null 2>&1 || true
fi

# The 'ws' package, pinned by package-lock.json.
if [[ ! -d "$here/node_modules/ws" ]]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# 10,000 WebSockets need as many descriptors in the server and in the clients: raise the soft
# limit as far as the hard limit allows (children inherit it). 65536 is plenty.
hard="$(ulimit -Hn)"
want=65536
if [[ "$hard" != unlimited && "$hard" -lt "$want" ]]; then want="$hard"; fi
ulimit -n "$want" 2>/dev/null || ulimit -n "$hard" 2>/dev/null || true
if [[ "$(ulimit -n)" != unlimited && "$(ulimit -n)" -lt $((${WS_COUNT:-10000} + 200)) ]]; then
  echo "run.sh: warning: open-file limit is $(ulimit -n) (hard $hard); the WebSocket figure needs more than ${WS_COUNT:-10000}" >&2
fi

exec node "$here/bench.js" "$binary"
