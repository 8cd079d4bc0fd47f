#!/usr/bin/env bash
# The test command (npm test → scripts/bootstrap.mjs → here, with the pinned Bun on PATH).
# Runs every suite under test/ and prints one closing line "N passed, N failed" that CI reads.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-output
report=test-output/junit.xml
rm -f "$report"
# Extra arguments narrow the run (e.g. `npm test -- test/engine`).
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(./test)
# Debian packages some suites drive: chromium for the browser tests (test/browser), ffmpeg as the independent
# decoder the media tests check our bytes against (test/media). Installed first when the run includes them.
includes() { # includes DIR: does the run cover DIR (the whole suite, DIR itself, or a file in it)?
  local t n f
  for t in "${targets[@]}"; do
    case "$t" in -*) continue ;; esac
    n=${t#./}; n=${n%/}
    case "$n" in "" | . | test | "$1"*) return 0 ;; esac
    for f in "$1"/*.test.ts; do [[ "$f" == *"$n"* ]] && return 0; done
  done
  return 1
}
packages=()
includes test/browser && packages+=(chromium)
includes test/media && packages+=(ffmpeg)
((${#packages[@]})) && bash scripts/install-debian-packages.sh "${packages[@]}"
bun test --timeout 30000 --reporter=junit --reporter-outfile="$report" "${targets[@]}" 2>&1 | tee test-output/bun-test.log
status=${PIPESTATUS[0]}
if [ -f "$report" ]; then
  # Count from the JUnit report: bun's own summary goes to stderr in a format CI does not read.
  read -r tests failures errors skipped < <(bun -e '
    const x = require("fs").readFileSync(process.argv[1], "utf8");
    const m = x.match(/<testsuites[^>]*>/)?.[0] ?? "";
    const g = (k) => Number(m.match(new RegExp(k + "=\"(\\d+)\""))?.[1] ?? 0);
    console.log(g("tests"), g("failures"), g("errors"), g("skipped"));
  ' "$report")
  failed=$((failures + errors))
  passed=$((tests - failed - skipped))
else
  passed=0; failed=1; skipped=0
  echo "no test report was written (bun test exit $status)" >&2
fi
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
[ "$skipped" -gt 0 ] && echo "${skipped} skipped"
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
