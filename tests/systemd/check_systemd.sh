#!/usr/bin/env bash
# Checks the systemd integration in systemd/ with systemd's own tools (Debian 12: systemd 252).
#
#   check_systemd.sh verify   SYSTEMD_DIR        systemd-analyze verify on hocbad.service (and on the
#                                                 two commented PIN-credential variants)
#   check_systemd.sh security SYSTEMD_DIR [MAX]  systemd-analyze security --offline: prints the
#                                                 exposure score, fails above MAX (default 2.0)
#   check_systemd.sh files    SYSTEMD_DIR        hocba.sysusers and hocba.tmpfiles: parsed and applied
#                                                 in a temporary root (systemd-sysusers/-tmpfiles --root)
#
# Exit 0: passed; 1: failed; 77: skipped (the systemd tools are not installed; CTest SKIP_RETURN_CODE).
# `systemd-analyze verify` exits 0 on an unknown directive or a value it cannot parse (it only logs
# "Unknown key ... ignoring"), so every message naming our unit counts as a failure here; each check
# first runs on a deliberately broken copy and fails if that copy is not caught.
set -uo pipefail

mode=${1:-}
src=${2:-}
max=${3:-2.0}
if [[ -z $mode || -z $src || ! -d $src ]]; then
  echo "usage: $0 verify|security|files SYSTEMD_DIR [MAX_EXPOSURE]" >&2
  exit 2
fi
src=$(cd "$src" && pwd)
unit=$src/hocbad.service
sysusers=$src/hocba.sysusers
tmpfiles=$src/hocba.tmpfiles

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hocba-systemd-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

# A copy of the unit whose ExecStart=/ExecStartPre= run a stub instead of /usr/bin/hocbad (not
# installed where tests run); everything else is the file as shipped. $1: output, $2: input.
stub_unit() {
  sed "s|/usr/bin/hocbad|$tmp/bin/hocbad|g" "$2" > "$1"
}
mkdir -p "$tmp/bin" "$tmp/ok" "$tmp/broken"
printf '#!/bin/sh\nexit 0\n' > "$tmp/bin/hocbad"
chmod 0755 "$tmp/bin/hocbad"

# verify_unit FILE: 0 when systemd-analyze verify accepts FILE without a word about it.
verify_unit() {
  local file=$1 name out rc
  name=$(basename "$file")
  out=$(systemd-analyze verify --man=no --generators=no "$file" 2>&1)
  rc=$?
  [[ -n $out ]] && printf '%s\n' "$out" | sed 's/^/  systemd-analyze: /'
  [[ $rc -eq 0 ]] || return 1
  # Messages about other units (pulled in by Wants=/After=) are shown but do not count.
  if printf '%s\n' "$out" | grep -qF -e "$name" -e "$file"; then return 1; fi
  return 0
}

case $mode in
verify)
  command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed (apt-get install systemd)"
  systemd-analyze --version | head -n 1

  # The checker must catch an unknown directive (a typo) and a value that does not parse.
  stub_unit "$tmp/broken/hocbad.service" "$unit"
  sed -i 's/^NoNewPrivileges=yes$/NoNewPrivilege=yes/' "$tmp/broken/hocbad.service"
  grep -q '^NoNewPrivilege=yes$' "$tmp/broken/hocbad.service" || fail "cannot make the broken copy (NoNewPrivileges=yes not found)"
  echo "broken copy (unknown directive), must be refused:"
  verify_unit "$tmp/broken/hocbad.service" && fail "the check did not notice an unknown directive"
  stub_unit "$tmp/broken/hocbad.service" "$unit"
  sed -i 's/^ProtectSystem=strict$/ProtectSystem=strictest/' "$tmp/broken/hocbad.service"
  echo "broken copy (bad value), must be refused:"
  verify_unit "$tmp/broken/hocbad.service" && fail "the check did not notice an invalid value"

  echo "hocbad.service:"
  stub_unit "$tmp/ok/hocbad.service" "$unit"
  verify_unit "$tmp/ok/hocbad.service" || fail "systemd-analyze verify: hocbad.service has errors (above)"

  # The commented alternatives for the seal PIN must be valid when an administrator enables one.
  for key in LoadCredentialEncrypted LoadCredential; do
    grep -q "^#$key=seal-pin:" "$unit" || fail "hocbad.service no longer shows #$key=seal-pin:..."
    stub_unit "$tmp/ok/hocbad.service" "$unit"
    sed -i "s/^#$key=seal-pin:/$key=seal-pin:/" "$tmp/ok/hocbad.service"
    echo "hocbad.service with $key= enabled:"
    verify_unit "$tmp/ok/hocbad.service" || fail "systemd-analyze verify: hocbad.service with $key= has errors"
  done

  # What the daemon contract needs, as written in the unit.
  for line in 'Type=notify' 'User=hocba' 'Group=hocba' 'StateDirectory=hocba' 'StateDirectoryMode=0700' \
              'ConfigurationDirectory=hocba' 'LimitCORE=0' 'UMask=0077' 'CapabilityBoundingSet=' \
              'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' 'Wants=pcscd.socket'; do
    grep -qxF "$line" "$unit" || fail "hocbad.service: missing the line '$line'"
  done
  grep -qE '^ExecStartPre=/usr/bin/hocbad --check-config ' "$unit" || fail "hocbad.service: no ExecStartPre= --check-config"
  grep -qE '^Requires=.*pcscd' "$unit" && fail "hocbad.service: pcscd must be wanted, not required (SoftHSM2-only servers)"
  echo "PASS: systemd-analyze verify"
  ;;

security)
  command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed (apt-get install systemd)"
  systemd-analyze --version | head -n 1

  # exposure FILE: prints the overall exposure of FILE (a number), or nothing.
  exposure() {
    systemd-analyze security --offline=yes --no-pager "$1" > "$tmp/security.txt" 2>&1
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$tmp/security.txt" | tail -n 1
  }
  above() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

  # The check must notice a unit that loses its hardening.
  stub_unit "$tmp/broken/hocbad.service" "$unit"
  sed -i -e '/^SystemCallFilter=/d' -e '/^PrivateDevices=/d' -e '/^ProtectSystem=/d' -e '/^CapabilityBoundingSet=/d' \
    "$tmp/broken/hocbad.service"
  weak=$(exposure "$tmp/broken/hocbad.service")
  [[ -n $weak ]] || { cat "$tmp/security.txt"; fail "no exposure level in systemd-analyze security's output"; }
  above "$weak" "$max" || fail "a copy without SystemCallFilter/PrivateDevices/ProtectSystem/capabilities scores $weak, not above $max: the threshold checks nothing"

  stub_unit "$tmp/ok/hocbad.service" "$unit"
  score=$(exposure "$tmp/ok/hocbad.service")
  [[ -n $score ]] || { cat "$tmp/security.txt"; fail "no exposure level in systemd-analyze security's output"; }
  grep '^✗' "$tmp/security.txt" | sed 's/^/  /'  # what is still exposed, and why
  grep 'Overall exposure level' "$tmp/security.txt"
  echo "exposure of hocbad.service: $score (at most $max allowed; the copy without hardening: $weak)"
  above "$score" "$max" && fail "hocbad.service's exposure $score is above $max"
  # systemd's own threshold test must agree (its --threshold counts in tenths: 2.0 is 20).
  tenths=$(awk -v m="$max" 'BEGIN { printf "%d", m * 10 + 0.5 }')
  systemd-analyze security --offline=yes --threshold="$tenths" --no-pager "$tmp/ok/hocbad.service" \
    > /dev/null 2>&1 || fail "systemd-analyze security --threshold refuses hocbad.service"
  echo "PASS: systemd-analyze security"
  ;;

files)
  # 1. What any machine can check: the lines' shape, and that every owner is root or ours.
  users=$(awk '!/^[[:space:]]*(#|$)/ && $1 == "u" { print $2 }' "$sysusers")
  [[ $users == hocba ]] || fail "hocba.sysusers must define exactly the user hocba (found: '$users')"
  awk '!/^[[:space:]]*(#|$)/' "$sysusers" | grep -qxE 'u[[:space:]]+hocba[[:space:]]+-[[:space:]]+"hocba-signer appliance"[[:space:]]+/var/lib/hocba' \
    || fail "hocba.sysusers: expected: u hocba - \"hocba-signer appliance\" /var/lib/hocba"
  n=0
  while read -r type path mode user group age extra; do
    n=$((n + 1))
    [[ $type =~ ^[dDeEvqQpLcbCxXrRzZtThHaAfFw][+!-]*$ ]] || fail "hocba.tmpfiles: unknown type '$type' ($path)"
    [[ $path == /* ]] || fail "hocba.tmpfiles: path '$path' is not absolute"
    [[ $mode =~ ^(-|[~:]?[0-7]{3,4})$ ]] || fail "hocba.tmpfiles: bad mode '$mode' ($path)"
    for owner in "$user" "$group"; do
      [[ $owner == - || $owner == root || $owner == hocba ]] || fail "hocba.tmpfiles: unknown owner '$owner' ($path)"
    done
    [[ -n ${age:-} && -z ${extra:-} ]] || fail "hocba.tmpfiles: '$path' needs exactly 6 fields (type path mode user group age)"
  done < <(awk '!/^[[:space:]]*(#|$)/' "$tmpfiles")
  [[ $n -gt 0 ]] || fail "hocba.tmpfiles has no rule"
  for rule in 'd /etc/hocba 0750 root hocba -' 'd /etc/hocba/trust 0755 root hocba -' 'd /var/lib/hocba 0700 hocba hocba -'; do
    awk '!/^[[:space:]]*(#|$)/ { $1 = $1; print }' "$tmpfiles" | grep -qxF "$rule" || fail "hocba.tmpfiles: missing the rule '$rule'"
  done
  # The unit runs as the user made here and uses the folders made here with the same modes.
  for line in 'User=hocba' 'StateDirectoryMode=0700' 'ConfigurationDirectoryMode=0750'; do
    grep -qx "$line" "$unit" || fail "hocbad.service and hocba.tmpfiles disagree: the unit lacks '$line'"
  done
  echo "line checks: passed"

  # 2. systemd's own parsers (systemd 252 has systemd-sysusers --dry-run, but no systemd-tmpfiles
  #    --dry-run: the rules are applied in a temporary root instead).
  if ! command -v systemd-sysusers >/dev/null || ! command -v systemd-tmpfiles >/dev/null; then
    skip "systemd-sysusers/systemd-tmpfiles are not installed (apt-get install systemd); only the line checks ran"
  fi
  systemd-sysusers --version | head -n 1

  printf 'u hocba - "hocba-signer appliance" /var/lib/hocba trailing\n' > "$tmp/broken/hocba.sysusers"
  mkdir -p "$tmp/root-broken/etc"
  systemd-sysusers --root="$tmp/root-broken" --dry-run "$tmp/broken/hocba.sysusers" > /dev/null 2>&1 \
    && fail "systemd-sysusers --dry-run did not notice a broken line"
  systemd-sysusers --root="$tmp/root-broken" --dry-run "$sysusers" || fail "systemd-sysusers --dry-run refuses hocba.sysusers"

  root=$tmp/root
  mkdir -p "$root/etc"
  if [[ $(id -u) -ne 0 ]]; then
    # Not root: the owners cannot be set, so the rules are applied with the owners left out.
    awk '!/^[[:space:]]*(#|$)/ { $4 = "-"; $5 = "-" } { print }' "$tmpfiles" > "$tmp/ok/hocba.tmpfiles"
    printf 'd /etc/x 07z5 - - -\n' > "$tmp/broken/hocba.tmpfiles"
    systemd-tmpfiles --create --root="$tmp/root-broken" "$tmp/broken/hocba.tmpfiles" > /dev/null 2>&1 \
      && fail "systemd-tmpfiles did not notice a broken line"
    out=$(systemd-tmpfiles --create --root="$root" "$tmp/ok/hocba.tmpfiles" 2>&1) \
      || { echo "$out"; fail "systemd-tmpfiles refuses hocba.tmpfiles"; }
    [[ -z $out ]] || { echo "$out"; fail "systemd-tmpfiles complains about hocba.tmpfiles"; }
    for want in '750 /etc/hocba' '755 /etc/hocba/trust' '700 /var/lib/hocba'; do
      got=$(stat -c '%a %n' "$root${want#* }") || fail "systemd-tmpfiles did not create ${want#* }"
      [[ $got == "${want%% *} $root${want#* }" ]] || fail "${want#* }: $got, expected mode ${want%% *}"
    done
    echo "systemd-tmpfiles --create (as $(id -un): modes checked, owners not)"
  else
    systemd-sysusers --root="$root" "$sysusers" || fail "systemd-sysusers refuses hocba.sysusers"
    entry=$(grep '^hocba:' "$root/etc/passwd") || fail "systemd-sysusers made no user hocba"
    echo "  $entry"
    IFS=: read -r _ _ uid gid _ home shell <<< "$entry"
    [[ $home == /var/lib/hocba ]] || fail "hocba's home is $home"
    [[ $shell == */nologin ]] || fail "hocba's shell is $shell, not nologin"
    [[ $uid -lt 1000 ]] || fail "hocba is not a system user (uid $uid)"
    grep -q "^hocba:x:$gid:" "$root/etc/group" || fail "no group hocba with gid $gid"

    printf 'd /etc/x 07z5 root hocba -\n' > "$tmp/broken/hocba.tmpfiles"
    systemd-tmpfiles --create --root="$root" "$tmp/broken/hocba.tmpfiles" > /dev/null 2>&1 \
      && fail "systemd-tmpfiles did not notice a broken line"
    out=$(systemd-tmpfiles --create --root="$root" "$tmpfiles" 2>&1) \
      || { echo "$out"; fail "systemd-tmpfiles refuses hocba.tmpfiles"; }
    [[ -z $out ]] || { echo "$out"; fail "systemd-tmpfiles complains about hocba.tmpfiles"; }
    for want in "750 0 $gid /etc/hocba" "755 0 $gid /etc/hocba/trust" "700 $uid $gid /var/lib/hocba"; do
      path=${want##* }
      got=$(stat -c '%a %u %g' "$root$path") || fail "systemd-tmpfiles did not create $path"
      [[ "$got $path" == "$want" ]] || fail "$path: mode/uid/gid $got, expected ${want% *}"
      echo "  $path: $got"
    done
    echo "systemd-tmpfiles --create (as root: modes and owners checked)"
  fi
  echo "PASS: sysusers.d and tmpfiles.d"
  ;;

*)
  echo "unknown check '$mode' (verify, security or files)" >&2
  exit 2
  ;;
esac
