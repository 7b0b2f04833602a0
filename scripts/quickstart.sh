#!/usr/bin/env bash
# Quick start: installs what is needed, builds, and runs the main job on embedded defaults: the
# appliance hocbad, which on first start creates SoftHSM2 tokens (test PKI), its SQLite store and a
# self-signed TLS certificate. The script then creates the accounts, binds the keys, imports the
# sample class 3A and signs it through the HTTPS API (homeroom teacher with one PIN entry, principal,
# school seal), checks every record with pdfsig and the audit log, and leaves hocbad serving.
#
#   scripts/quickstart.sh          # ... and keep hocbad running (Ctrl-C stops it)
#   scripts/quickstart.sh --once   # ... and stop hocbad at the end
#   scripts/quickstart.sh --cli    # the command-line demo: one record signed three times by `hocba sign`
#
# State: $HOCBA_STATE_DIR (default ~/.local/share/hocba-demo); the appliance in STATE/appliance.
# Port: $HOCBA_PORT (default 8443) on 127.0.0.1.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
state=${HOCBA_STATE_DIR:-$HOME/.local/share/hocba-demo}
build=${HOCBA_BUILD_DIR:-$here/build}
mode=${1:-serve}

# HOCBA_QUICKSTART_NO_BUILD=1: use hocba and hocbad as built in $build (the test suite's run of this script).
if [ "${HOCBA_QUICKSTART_NO_BUILD:-0}" != 1 ]; then
  "$here/scripts/install-deps.sh"
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" --target hocba hocbad
fi
hocba="$build/cli/hocba"
images="$here/tests/data/images"

if [ "$mode" = "--cli" ]; then
  if [ ! -f "$state/softhsm2.conf" ]; then
    echo "== first run: creating SoftHSM2 tokens and a test PKI in $state"
    mkdir -p "$state"
    "$here/scripts/softhsm-provision.sh" "$state" >/dev/null
  fi
  export SOFTHSM2_CONF="$state/softhsm2.conf"
  echo "== tokens"
  "$hocba" token list
  echo "== rendering the sample class 3A (tests/data/samples/primary-3A.json) to $state/records"
  "$hocba" render --in "$here/tests/data/samples/primary-3A.json" --out "$state/records"
  in="$state/records/001316729633.pdf"
  out="$state/sample-signed.pdf"
  echo "== signing $in: homeroom teacher, principal, school seal"
  "$hocba" sign --in "$in" --out "$state/.step1.pdf" --field gvcn --image "$images/signature.png" --certify \
    --key "pkcs11:token=GVCN-3A;object=gvcn-3a?pin-source=file:$state/pins/GVCN-3A.pin" \
    --reason "Giáo viên chủ nhiệm ký" --location "Hà Nội"
  "$hocba" sign --in "$state/.step1.pdf" --out "$state/.step2.pdf" --field hieu_truong --pss \
    --image "$images/signature.png" --title "Hiệu trưởng" \
    --key "pkcs11:token=HIEU-TRUONG;object=hieu-truong" --pin-file "$state/pins/HIEU-TRUONG.pin" \
    --reason "Hiệu trưởng duyệt"
  "$hocba" sign --in "$state/.step2.pdf" --out "$out" --field con_dau --seal-image "$images/seal.png" \
    --key "pkcs11:token=CON-DAU;object=con-dau" --pin-file "$state/pins/CON-DAU.pin"
  rm -f "$state/.step1.pdf" "$state/.step2.pdf"
  echo "== verifying $out"
  "$hocba" verify "$out" --trust "$state/pki/root.pem"
  echo "== done: $out (check it independently with: pdfsig $out)"
  exit 0
fi

app="$state/appliance"
port=${HOCBA_PORT:-8443}
mkdir -p "$app"
chmod 700 "$app"
echo "== starting hocbad on embedded defaults (state: $app)"
# Embedded defaults: hocbad makes its own SoftHSM2 demo tokens, so any SOFTHSM2_CONF is not passed on.
env -u SOFTHSM2_CONF "$build/daemon/hocbad" --state-dir "$app" --listen "127.0.0.1:$port" >"$app/hocbad.out" 2>"$app/hocbad.log" &
pid=$!
stop() { kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; }
trap stop EXIT
for _ in $(seq 1 600); do
  grep -q "listening on" "$app/hocbad.out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$app/hocbad.log" >&2; echo "hocbad did not start" >&2; exit 1; }
  sleep 0.1
done
cat "$app/hocbad.out"
base="https://127.0.0.1:$port"
ca="$app/tls/cert.pem"
py=/usr/bin/python3

# api METHOD PATH TOKEN [BODY]: prints the body; fails on a 4xx/5xx unless ALLOW is set to its status.
api() {
  local out code
  out=$(curl -sS --cacert "$ca" -X "$1" -H "Content-Type: application/json" ${3:+-H "Authorization: Bearer $3"} \
    ${4:+--data-binary "$4"} -w '\n%{http_code}' "$base$2")
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  if [ "$code" -ge 400 ] && [ "$code" != "${ALLOW:-}" ]; then echo "$1 $2: HTTP $code $out" >&2; return 1; fi
  printf '%s' "$out"
}
field() { $py -c "import json,sys; print(json.load(sys.stdin)$1)"; }

echo "== accounts (passwords in $app/demo-passwords)"
if [ ! -f "$app/demo-passwords" ]; then
  umask 077
  for u in admin gvcn.3a ht; do echo "$u $(head -c 12 /dev/urandom | base64 | tr -d '/+=')"; done >"$app/demo-passwords"
fi
declare -A pw
while read -r u p; do pw[$u]=$p; done <"$app/demo-passwords"
for ur in admin:admin gvcn.3a:homeroom_teacher ht:principal; do
  u=${ur%%:*}
  if ! "$hocba" user list --state-dir "$app" | grep -q "^$u "; then
    printf '%s\n' "${pw[$u]}" >"$app/.pw"
    "$hocba" user add --state-dir "$app" --username "$u" --role "${ur##*:}" --password-file "$app/.pw"
    rm -f "$app/.pw"
  fi
done
login() { api POST /api/v1/auth/login "" "{\"username\":\"$1\",\"password\":\"${pw[$1]}\"}" | field '["token"]'; }
admin=$(login admin)

echo "== keys: the teacher's, the principal's and the school seal's"
bindings=$(api GET /api/v1/keys "$admin")
bind() {
  case "$bindings" in *"$1"*) return 0 ;; esac
  api POST /api/v1/keys "$admin" "$2" >/dev/null
}
bind "object=gvcn-3a" '{"uri":"pkcs11:token=GVCN-3A;object=gvcn-3a","username":"gvcn.3a"}'
bind "object=hieu-truong" '{"uri":"pkcs11:token=HIEU-TRUONG;object=hieu-truong","username":"ht"}'
bind "object=con-dau" '{"uri":"pkcs11:token=CON-DAU;object=con-dau","seal":true}'

echo "== importing class 3A (tests/data/samples/primary-3A.json)"
class=$(api POST /api/v1/classes "$admin" "@$here/tests/data/samples/primary-3A.json" | field '["class_id"]')
pins="$app/softhsm/pins"
job() {  # job TOKEN FIELD PIN [CLASS]
  local body="{\"field\":\"$2\",\"pin\":\"$(cat "$pins/$3.pin")\"${4:+,\"class_id\":$4}}" id st
  id=$(ALLOW=404 api POST /api/v1/jobs "$1" "$body" | field '.get("id", "")')
  [ -n "$id" ] || { echo "   nothing waits for $2"; return 0; }
  while st=$(api GET "/api/v1/jobs/$id" "$1") && [ "$(echo "$st" | field '["state"]')" = running ]; do sleep 0.5; done
  echo "   $2: $(echo "$st" | field '["state"]'), $(echo "$st" | field '["done"]')/$(echo "$st" | field '["total"]') signed"
}
echo "== signing class 3A: homeroom teacher (one PIN entry), principal, school seal"
teacher=$(login gvcn.3a)
principal=$(login ht)
job "$teacher" gvcn GVCN-3A "$class"
job "$principal" hieu_truong HIEU-TRUONG
job "$principal" con_dau CON-DAU

echo "== checking every record with pdfsig"
mkdir -p "$state/signed"
ok=0
for id in $(api GET "/api/v1/classes/$class" "$admin" | $py -c "import json,sys; [print(r['id']) for r in json.load(sys.stdin)['records']]"); do
  curl -sS --cacert "$ca" -H "Authorization: Bearer $admin" "$base/api/v1/records/$id/pdf" -o "$state/signed/$id.pdf"
  n=$(pdfsig "$state/signed/$id.pdf" 2>/dev/null | grep -c "Signature is Valid." || true)
  [ "$n" = 3 ] && ok=$((ok + 1)) || echo "   record $id: $n valid signatures"
done
echo "   $ok records with three valid signatures, in $state/signed"
"$hocba" audit verify --state-dir "$app"

if [ "$mode" = "--once" ]; then
  echo "== done; stopping hocbad"
  exit 0
fi
echo "== hocbad serves $base/ (web UI in Vietnamese; accounts in $app/demo-passwords). Ctrl-C stops it."
wait "$pid"
