#!/usr/bin/env bash
# Long fuzz runs (docs/fuzzing.md):  scripts/fuzz.sh TARGET SECONDS [libFuzzer options...]
#        scripts/fuzz.sh --list     the targets
#        scripts/fuzz.sh --smoke [RUNS]   every target for RUNS inputs from its seed corpus (the
#                                   test command's short run; default 2000); any crash fails it
# Builds the targets in build-fuzz/ (clang, -DHOCBA_FUZZ=ON: ASan + UBSan + libFuzzer) if needed,
# copies the seed corpus fuzz/corpus/TARGET to a work folder (fuzz-work/TARGET/corpus, or
# $HOCBA_FUZZ_WORK/TARGET) so that the repository's corpus stays small, runs the target for SECONDS on
# one core (HOCBA_FUZZ_NO_BUILD=1: do not build), prints the executions and exec/s, and keeps crashes in fuzz-work/TARGET/crashes/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${HOCBA_FUZZ_BUILD_DIR:-$here/build-fuzz}
work_root=${HOCBA_FUZZ_WORK:-$here/fuzz-work}
jobs=${HOCBA_JOBS:-2}
targets=(fuzz_class_import fuzz_http_request fuzz_pdf_verify fuzz_pdf_sign fuzz_pdf_attachment fuzz_config fuzz_timestamp fuzz_revocation fuzz_cms_verify fuzz_png_image)

build_targets() {
  [ -n "${HOCBA_FUZZ_NO_BUILD:-}" ] && return 0  # the targets are built already (another run is building)
  if [ ! -f "$build/build.ninja" ]; then
    CC=${HOCBA_FUZZ_CC:-clang} CXX=${HOCBA_FUZZ_CXX:-clang++} \
      cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOCBA_BUILD_TESTS=OFF -DHOCBA_FUZZ=ON >/dev/null
  fi
  cmake --build "$build" -j "$jobs" --target fuzz_all
}

# ASan/UBSan: stop at the first error, with a stack; no leak check at exit (OpenSSL's and PoDoFo's
# process-wide caches are not leaks of ours; leaks per input are still caught by libFuzzer's -detect_leaks).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

case "${1:-}" in
  --list) printf '%s\n' "${targets[@]}"; exit 0 ;;
  --smoke)
    runs=${2:-2000}
    build_targets
    fail=0
    for t in "${targets[@]}"; do
      seeds="$here/fuzz/corpus/$t"
      out=$(mktemp -d)
      start=$(date +%s)
      dict=(); [ -f "$here/fuzz/dict/$t.dict" ] && dict=(-dict="$here/fuzz/dict/$t.dict")
      # A copy of the seeds: new inputs go to the copy, never into the repository.
      cp -r "$seeds" "$out/corpus"
      if "$build/fuzz/$t" -runs="$runs" -seed=1 -print_final_stats=1 -timeout=60 -rss_limit_mb=4096 -artifact_prefix="$out/" "${dict[@]}" \
           "$out/corpus" >"$out/log" 2>&1; then
        echo "fuzz smoke: $t ok ($(( $(date +%s) - start )) s, $(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$out/log" | grep -oE '[0-9]+$' || echo '?') runs)"
      else
        echo "fuzz smoke: $t FAILED; its log:"
        tail -60 "$out/log"
        ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* 2>/dev/null | sed 's/^/  input: /' || true
        fail=1
      fi
      # Keep the failing input for a regression test; drop the rest.
      if [ $fail -eq 1 ]; then mkdir -p "$work_root/smoke-failures" && cp "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$work_root/smoke-failures/" 2>/dev/null || true; fi
      rm -rf "$out"
    done
    exit $fail ;;
esac

if [ $# -lt 2 ]; then
  echo "usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer options...] | --list | --smoke [RUNS]" >&2
  exit 2
fi
target=$1 seconds=$2
shift 2
printf '%s\n' "${targets[@]}" | grep -qx "$target" || { echo "unknown target $target (scripts/fuzz.sh --list)" >&2; exit 2; }
build_targets
work="$work_root/$target"
mkdir -p "$work/corpus" "$work/crashes"
cp -rn "$here/fuzz/corpus/$target/." "$work/corpus/"
dict=(); [ -f "$here/fuzz/dict/$target.dict" ] && dict=(-dict="$here/fuzz/dict/$target.dict")
log="$work/run-$(date +%Y%m%d-%H%M%S).log"
echo "fuzzing $target for $seconds s; corpus $work/corpus, crashes $work/crashes/, log $log"
start=$(date +%s)
set +e
"$build/fuzz/$target" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=4096 -print_final_stats=1 \
  -artifact_prefix="$work/crashes/" "${dict[@]}" "$@" "$work/corpus" >"$log" 2>&1
rc=$?
set -e
elapsed=$(( $(date +%s) - start ))
execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
echo "$target: ${execs:-?} executions in $elapsed s (${rate:-?} exec/s), corpus $(ls "$work/corpus" | wc -l) inputs, exit $rc"
if ls "$work/crashes"/* >/dev/null 2>&1; then
  echo "crashes kept in $work/crashes/:"; ls -1 "$work/crashes"
  tail -40 "$log"
fi
exit $rc
