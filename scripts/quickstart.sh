#!/usr/bin/env bash
# Quick start: installs what is needed, builds, and runs the main job on embedded defaults.
#
# On first run a SoftHSM2 token set is created in $HOCBA_STATE_DIR (default ~/.local/share/hocba-demo):
# the homeroom teacher's token GVCN-3A, the principal's HIEU-TRUONG and the school seal CON-DAU, with
# a test PKI. The sample class 3A is rendered to PDF/A records; one record is then signed by the teacher,
# the principal (RSA-PSS) and the seal, with visible appearances, one incremental update each, and
# verified against the test root.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
state=${HOCBA_STATE_DIR:-$HOME/.local/share/hocba-demo}
build=${HOCBA_BUILD_DIR:-$here/build}

"$here/scripts/install-deps.sh"
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target hocba
hocba="$build/cli/hocba"

if [ ! -f "$state/softhsm2.conf" ]; then
  echo "== first run: creating SoftHSM2 tokens and a test PKI in $state"
  mkdir -p "$state"
  "$here/scripts/softhsm-provision.sh" "$state" >/dev/null
fi
export SOFTHSM2_CONF="$state/softhsm2.conf"

echo "== tokens"
"$hocba" token list
images="$here/tests/data/images"
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
