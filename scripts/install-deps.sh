#!/usr/bin/env bash
# Installs every Debian 12 package hocba-signer needs to build, run and test.
# Idempotent; run as root (or through sudo).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

need_update=1
install() { # install "$@" only if some package is missing
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $need_update -eq 1 ]; then $SUDO apt-get update -qq; need_update=0; fi
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Debian 12's libpodofo-dev depends on libboost-dev, which is Boost 1.74 and conflicts with the
# Boost 1.81 packages we build with. PoDoFo's headers only include <boost/config.hpp>, so a tiny
# local package that provides libboost-dev through libboost1.81-dev resolves the conflict.
install build-essential cmake ninja-build pkg-config dpkg-dev \
        libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev \
        libboost-locale1.81-dev
if ! dpkg-query -W -f='${Status}' hocba-boost-default 2>/dev/null | grep -q "install ok installed"; then
  tmp=$(mktemp -d)
  mkdir -p "$tmp/pkg/DEBIAN"
  cat > "$tmp/pkg/DEBIAN/control" <<'CTL'
Package: hocba-boost-default
Version: 1.81.0-1
Architecture: all
Maintainer: hocba-signer developers <root@localhost>
Depends: libboost1.81-dev
Provides: libboost-dev (= 1.81.0.1)
Section: libdevel
Priority: optional
Description: Boost 1.81 as the default Boost for hocba-signer builds
 libpodofo-dev depends on libboost-dev (1.74 in Debian 12), which conflicts
 with libboost1.81-dev; PoDoFo's headers only include boost/config.hpp.
CTL
  dpkg-deb --build "$tmp/pkg" "$tmp/hocba-boost-default.deb" >/dev/null
  if [ $need_update -eq 1 ]; then $SUDO apt-get update -qq; need_update=0; fi
  $SUDO apt-get install -y -qq "$tmp/hocba-boost-default.deb"
  rm -rf "$tmp"
fi

install libssl-dev openssl libp11-dev libp11-kit-dev libpodofo-dev libspdlog-dev libsodium-dev \
        libtomlplusplus-dev libsqlite3-dev libgtest-dev libgmock-dev libfontconfig-dev libfreetype-dev libpng-dev libxml2-dev \
        libxml2-utils softhsm2 opensc poppler-utils qpdf fonts-liberation2 ca-certificates \
        libgs-common python3-asn1crypto python3-yaml systemd sqlite3 curl oathtool python3-prometheus-client wrk
# libgs-common: the sRGB ICC profile of rendered records' PDF/A OutputIntent;
# libpng-dev: uploaded signature and seal images are checked and decoded with libpng (pdf/src/image.cpp);
# libxml2-dev: the record's XML twin is written with libxml2 (pdf/src/record_xml.cpp); libxml2-utils:
# the tests validate it against docs/record.xsd with xmllint;
# python3-asn1crypto: tests/tools/check_pades_cms.py, an independent strict reading of our CMS;
# python3-yaml: the OpenAPI document check (tests/appliance/openapi_test.cpp); oathtool and
# python3-prometheus-client: independent checks of our TOTP codes and /metrics text;
# systemd: systemd-analyze and systemd-sysusers check the unit files (tests/systemd); sqlite3: backups;
# wrk: bench/hocbad-load.sh (hocbad under 200 connections)

# The fuzz targets (fuzz/, scripts/fuzz.sh, run briefly by scripts/test.sh): clang 14, and libFuzzer with
# the ASan/UBSan runtimes (libclang_rt.fuzzer-x86_64.a), which Debian 12 ships in libclang-rt-14-dev.
install clang-14 libclang-rt-14-dev
command -v clang >/dev/null || install clang

# The web UI's browser test (tests/web): Debian's chromium, driven by playwright-core from npm
# (pinned by tests/web/package-lock.json; no browser is downloaded).
install chromium
# Node.js and npm only when missing: some machine images bring their own Node.js, and Debian's npm
# package conflicts with it ("nodejs : Conflicts: npm"); tests/web needs Node 18 or newer.
command -v node >/dev/null || install nodejs
command -v npm >/dev/null || install npm
web="$(cd "$(dirname "$0")/.." && pwd)/tests/web"
if [ ! -f "$web/node_modules/.package-lock.json" ] || [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
  npm ci --prefix "$web" --no-audit --no-fund --loglevel=error
fi
