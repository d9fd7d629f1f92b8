#!/usr/bin/env bash
# Fails when a C++ source of the project is not as clang-format (.clang-format) would write it.
#   scripts/check-format.sh          check (CI runs this as the ctest format.clang_format)
#   scripts/check-format.sh --fix    rewrite the files in place
set -euo pipefail
cd "$(dirname "$0")/.."
mode=(--dry-run --Werror)
[[ "${1:-}" == "--fix" ]] && mode=(-i)
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.cpp' '*.hpp' | sort)
else
  mapfile -t files < <(find src tests bench fuzz -name '*.cpp' -o -name '*.hpp' 2>/dev/null |
    grep -v node_modules | sort)
fi
((${#files[@]})) || { echo "check-format: no sources found" >&2; exit 1; }
clang-format "${mode[@]}" "${files[@]}"
echo "check-format: ${#files[@]} files as clang-format writes them"
