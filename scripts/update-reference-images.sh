#!/usr/bin/env bash
# Rewrites the reference pictures of the record layout: docs/render-{primary,secondary}-pN.png (80 dpi,
# for people) and docs/render-*-pN.pgm (80 dpi grey averaged over 4 x 4 blocks, what the test
# Render.ReferenceImages compares against). Run after an intended change of the layout, look at the
# PNGs, and commit both.
#   scripts/update-reference-images.sh [BUILD_DIR]    (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja
fi
cmake --build "$build" --target render_test hocba
HOCBA_UPDATE_REFERENCE=1 "$build/tests/pdf/render_test" --gtest_filter='Render.ReferenceImages'
ls -l "$root"/docs/render-*.png "$root"/docs/render-*.pgm
