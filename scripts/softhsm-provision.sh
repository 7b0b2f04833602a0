#!/usr/bin/env bash
# Provisions a throw-away SoftHSM2 token set with a small test PKI, for tests and the demo.
#
#   scripts/softhsm-provision.sh DIR
#
# Creates in DIR:
#   softhsm2.conf            SoftHSM2 configuration (export SOFTHSM2_CONF=DIR/softhsm2.conf)
#   tokens/                  the token store
#   pki/root.pem, sub.pem    test root CA and issuing CA (their keys stay in pki/, test use only)
#   pins/<TOKEN>.pin         user PINs (mode 0600)
# Tokens (keys are generated ON the token; only the public key leaves it, to be certified):
#   GVCN-3A      RSA-2048  id 01 label gvcn-3a       homeroom teacher
#   HIEU-TRUONG  RSA-3072  id 02 label hieu-truong   principal (signs with RSA-PSS)
#   CON-DAU      EC P-256  id 03 label con-dau       school seal
#                EC P-384  id 04 label con-dau-p384
# Each token also holds the issuing and root CA certificates (so the chain can come from the token).
set -euo pipefail
DIR=${1:?usage: softhsm-provision.sh DIR}
MODULE=${SOFTHSM2_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
mkdir -p "$DIR/tokens" "$DIR/pki" "$DIR/pins"
DIR=$(cd "$DIR" && pwd)
chmod 700 "$DIR/pins"
cat > "$DIR/softhsm2.conf" <<CONF
directories.tokendir = $DIR/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
export SOFTHSM2_CONF="$DIR/softhsm2.conf"
P="$DIR/pki"
SCHOOL="Trường Tiểu học Ngô Sỹ Kiện"

# --- test PKI: root CA -> issuing CA -> signers -------------------------------------------------
if [ ! -f "$P/root.pem" ]; then
  cat > "$P/ext.cnf" <<'CNF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[signer]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$P/root.key" 2>/dev/null
  openssl req -x509 -new -utf8 -key "$P/root.key" -days 7300 -subj "/C=VN/O=hocba test PKI/CN=hocba Test Root CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$P/root.pem"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$P/sub.key" 2>/dev/null
  openssl req -new -utf8 -key "$P/sub.key" -subj "/C=VN/O=hocba test PKI/CN=hocba Test Issuing CA" -out "$P/sub.csr"
  openssl x509 -req -in "$P/sub.csr" -CA "$P/root.pem" -CAkey "$P/root.key" -CAcreateserial -days 3650 \
    -extfile "$P/ext.cnf" -extensions ca -out "$P/sub.pem" 2>/dev/null
fi

p11() { pkcs11-tool --module "$MODULE" "$@"; }

# make_token LABEL PIN
make_token() {
  softhsm2-util --init-token --free --label "$1" --pin "$2" --so-pin "so-$2" >/dev/null
  printf '%s\n' "$2" > "$DIR/pins/$1.pin"
  chmod 600 "$DIR/pins/$1.pin"
  for ca in sub root; do
    openssl x509 -in "$P/$ca.pem" -outform DER -out "$P/$ca.der"
    p11 --token-label "$1" --login --pin "$2" --write-object "$P/$ca.der" --type cert \
        --label "ca-$ca" --id "$([ $ca = sub ] && echo a1 || echo a0)" >/dev/null
  done
}

# make_key TOKEN PIN KEYTYPE ID LABEL SUBJECT
make_key() {
  local tok=$1 pin=$2 kt=$3 id=$4 label=$5 subj=$6
  if [ "$kt" = EC:secp384r1 ]; then
    # Debian 12's pkcs11-tool cannot export a P-384 public key ("cannot create EVP_PKEY"): generate
    # this one in software and import it (test keys only).
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$P/$label.key" 2>/dev/null
    openssl pkey -in "$P/$label.key" -outform DER -out "$P/$label.key.der"
    p11 --token-label "$tok" --login --pin "$pin" --write-object "$P/$label.key.der" --type privkey \
        --id "$id" --label "$label" --usage-sign >/dev/null
    openssl pkey -in "$P/$label.key" -pubout -out "$P/$label.pub.pem"
    openssl pkey -pubin -in "$P/$label.pub.pem" -outform DER -out "$P/$label.pub.der"
    # The public key object too, so the key is listed before login (as a generated pair is).
    p11 --token-label "$tok" --login --pin "$pin" --write-object "$P/$label.pub.der" --type pubkey \
        --id "$id" --label "$label" >/dev/null
    rm -f "$P/$label.key" "$P/$label.key.der"
  else
    p11 --token-label "$tok" --login --pin "$pin" --keypairgen --key-type "$kt" --id "$id" --label "$label" >/dev/null
    p11 --token-label "$tok" --read-object --type pubkey --id "$id" -o "$P/$label.pub.der" >/dev/null
    openssl pkey -pubin -inform DER -in "$P/$label.pub.der" -out "$P/$label.pub.pem"
  fi
  # `openssl x509 -new -subj` would mis-encode UTF-8 names: take the subject from a CSR made with a
  # throw-away key (`req -utf8`), and put the token's public key in with -force_pubkey.
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$P/throwaway.key" 2>/dev/null
  openssl req -new -utf8 -key "$P/throwaway.key" -subj "$subj" -out "$P/$label.csr"
  rm -f "$P/throwaway.key"
  openssl x509 -req -in "$P/$label.csr" -force_pubkey "$P/$label.pub.pem" -CA "$P/sub.pem" -CAkey "$P/sub.key" \
    -set_serial "0x$(openssl rand -hex 8)" -days 1825 -extfile "$P/ext.cnf" -extensions signer \
    -out "$P/$label.pem" 2>/dev/null
  openssl x509 -in "$P/$label.pem" -outform DER -out "$P/$label.der"
  p11 --token-label "$tok" --login --pin "$pin" --write-object "$P/$label.der" --type cert --id "$id" \
      --label "$label" >/dev/null
}

if [ ! -f "$DIR/.provisioned" ]; then
  make_token GVCN-3A 111111
  make_key GVCN-3A 111111 rsa:2048 01 gvcn-3a "/C=VN/O=$SCHOOL/CN=Võ Tuấn Cường"
  make_token HIEU-TRUONG 222222
  make_key HIEU-TRUONG 222222 rsa:3072 02 hieu-truong "/C=VN/O=$SCHOOL/CN=Nguyễn Thị Giẽ"
  make_token CON-DAU 333333
  make_key CON-DAU 333333 EC:prime256v1 03 con-dau "/C=VN/O=$SCHOOL/CN=$SCHOOL"
  make_key CON-DAU 333333 EC:secp384r1 04 con-dau-p384 "/C=VN/O=$SCHOOL/OU=P-384/CN=$SCHOOL"
  touch "$DIR/.provisioned"
fi
echo "$DIR/softhsm2.conf"
