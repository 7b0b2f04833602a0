#!/usr/bin/env bash
# The test command: installs what is needed, builds everything with the tests, runs the whole suite,
# then builds the fuzz targets (build-fuzz/: clang, ASan + UBSan) and runs each briefly over its seed
# corpus (scripts/fuzz.sh --smoke; docs/fuzzing.md). A crash there fails the test command.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${HOCBA_BUILD_DIR:-$here/build}
jobs=${HOCBA_JOBS:-$(nproc)}

"$here/scripts/install-deps.sh"
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOCBA_BUILD_TESTS=ON >/dev/null
cmake --build "$build" -j "$jobs"
cd "$build"
ctest --output-on-failure -j "$jobs" --timeout 600
HOCBA_JOBS=$jobs "$here/scripts/fuzz.sh" --smoke "${HOCBA_FUZZ_SMOKE_RUNS:-2000}"
