#!/usr/bin/env bash
# The README's first command, as far as a test may run it: scripts/quickstart.sh --once with the
# binaries of this build (no package installation, no build), a throw-away state folder and a free
# port on 127.0.0.1. It must sign class 3A through the appliance and find every record valid.
#   check_quickstart.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
for tool in softhsm2-util pkcs11-tool pdfsig curl openssl; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is missing"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
out="$tmp/out"
if ! HOCBA_QUICKSTART_NO_BUILD=1 HOCBA_BUILD_DIR="$build" HOCBA_STATE_DIR="$tmp/state" HOCBA_PORT="$port" \
     bash "$src/scripts/quickstart.sh" --once >"$out" 2>&1; then
  cat "$out"
  [ -f "$tmp/state/appliance/hocbad.log" ] && tail -20 "$tmp/state/appliance/hocbad.log"
  echo "FAIL: scripts/quickstart.sh --once failed"
  exit 1
fi
cat "$out"
grep -q "35 records with three valid signatures" "$out" || { echo "FAIL: not every record was signed and valid"; exit 1; }
grep -q "chain intact" "$out" || { echo "FAIL: the audit chain was not verified"; exit 1; }
echo "quickstart: ok"
