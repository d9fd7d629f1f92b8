#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan, UBSan) and runs each of them, starting from its
# seed corpus in fuzz/corpus/<target>/. Exits non-zero on any finding (a crash, a leak, undefined
# behaviour, a timeout, a broken property); the reproducer is left in the work directory.
#
#   bash fuzz/run.sh                      # every target for 12 s (what ctest's local.fuzz runs)
#   bash fuzz/run.sh --seconds 3600       # an hour each
#   bash fuzz/run.sh --seconds 0 --jobs 2 sigv4_presigned   # one target until stopped, 2 jobs
#
# Options: --seconds N (per target; 0: no limit), --jobs N (parallel fuzzing processes per
# target), --build-dir DIR (default build-fuzz), --work-dir DIR (corpus growth and findings;
# default: a temporary directory, kept when something is found). Needs clang++-16 and
# libclang-rt-16-dev (scripts/setup.sh --test installs them); skipped (exit 77) without them,
# failed instead under CI=true.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
seconds=12
jobs=1
build_dir="$here/../build-fuzz"
work_dir=""
targets=()
while (($#)); do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --work-dir) work_dir="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=(http_api websocket_router sigv4_presigned s3_key local_events)

cxx="${QR_FUZZ_CXX:-clang++-16}"
if ! command -v "$cxx" >/dev/null || ! "$cxx" -fsanitize=fuzzer -x c++ -o /dev/null - <<<'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' 2>/dev/null; then
  echo "fuzz/run.sh: $cxx with libFuzzer not found (apt-get install clang-16 libclang-rt-16-dev, or scripts/setup.sh --test)" >&2
  [[ "${CI:-}" == true ]] && exit 1
  exit 77
fi

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  cmake -S "$here" -B "$build_dir" "${generator[@]}" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Debug >/dev/null
fi
cmake --build "$build_dir" --parallel "${QR_FUZZ_BUILD_JOBS:-2}" >/dev/null

keep=0
if [[ -z "$work_dir" ]]; then
  work_dir="$(mktemp -d "${TMPDIR:-/tmp}/qr-upload-fuzz-XXXXXX")"
else
  mkdir -p "$work_dir"; keep=1
fi

failed=()
for target in "${targets[@]}"; do
  bin="$build_dir/${target}_fuzzer"
  corpus="$work_dir/$target/corpus"
  artifacts="$work_dir/$target/findings/"
  mkdir -p "$corpus" "$artifacts"
  cp -n "$here/corpus/$target/"* "$corpus/" 2>/dev/null || true
  log="$work_dir/$target/fuzz.log"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192
        -artifact_prefix="$artifacts" -print_final_stats=1)
  ((seconds == 0)) && args=("${args[@]:1}")
  [[ -f "$here/dict/$target.dict" ]] && args+=(-dict="$here/dict/$target.dict")
  status=0
  if ((jobs > 1)); then
    "$bin" "${args[@]}" -jobs="$jobs" -workers="$jobs" "$corpus" >"$log" 2>&1 || status=$?
    cat "$work_dir"/fuzz-*.log >>"$log" 2>/dev/null || true
  else
    "$bin" "${args[@]}" "$corpus" >"$log" 2>&1 || status=$?
  fi
  execs="$(grep -h 'stat::number_of_executed_units' "$log" | awk '{s += $2} END {print s + 0}')"
  found="$(find "$artifacts" -type f | wc -l)"
  printf 'fuzz %-18s %10s executions in %ss, corpus %s, findings %s%s\n' "$target" "$execs" \
    "$seconds" "$(find "$corpus" -type f | wc -l)" "$found" "$( ((status)) && echo " (exit $status)")"
  if ((status != 0 || found != 0)); then
    failed+=("$target")
    grep -h -A30 -E '^==[0-9]+==ERROR|runtime error|property violated|deadly signal|Timeout' "$log" | head -60 >&2 || true
    ls "$artifacts" >&2
  fi
done

if ((${#failed[@]})); then
  echo "fuzz/run.sh: findings in ${failed[*]}; reproducers and logs in $work_dir" >&2
  exit 1
fi
((keep)) || rm -rf "$work_dir"
echo "fuzz/run.sh: no findings"
