#!/usr/bin/env bash
# Makes the seed corpus of the fuzz targets (fuzz/corpus/<target>/) and the fixed inputs they read
# (fuzz/data/): a small test PKI with the openssl command (root CA, signer, TSA, OCSP responder), OCSP
# answers, CRLs, RFC 3161 answers, signed PDFs (fuzz_make_seeds: our signer with a software key),
# trimmed class files, configuration files and HTTP requests. The output is committed; run this
# again only to change it (it needs build-fuzz/, see scripts/fuzz.sh):  fuzz/make-seeds.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${HOCBA_FUZZ_BUILD_DIR:-$root/build-fuzz}
corpus=$here/corpus
data=$here/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# --- the PKI (EC P-256: small files) -----------------------------------------------------------------
mkdir -p db && touch db/index.txt && echo 1000 > db/serial && echo 1000 > db/crlnumber
cat > ca.cnf <<'CNF'
[ ca ]
default_ca = root
[ root ]
dir = .
database = ./db/index.txt
serial = ./db/serial
crlnumber = ./db/crlnumber
new_certs_dir = ./db
certificate = ./root.pem
private_key = ./root.key
default_md = sha256
default_days = 3650
default_crl_days = 3650
policy = any
unique_subject = no
copy_extensions = none
[ any ]
countryName = optional
organizationName = optional
commonName = supplied
[ v3_root ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ signer ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:http://ocsp.test/
crlDistributionPoints = URI:http://crl.test/root.crl
[ tsa ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ocsp ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, OCSPSigning
noCheck = ignored
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
# openssl ts reads its own section from another file.
cat > ts.cnf <<'CNF'
[ tsa ]
default_tsa = tsa1
[ tsa1 ]
serial = ./tsaserial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.3.6.1.4.1.55555.1.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF
echo 01 > tsaserial
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
key root
openssl req -new -x509 -key root.key -out root.pem -days 3650 -subj "/C=VN/O=hocba fuzz PKI/CN=Fuzz Root CA" \
  -config ca.cnf -extensions v3_root 2>/dev/null
issue() { # name extensions subject
  key "$1"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "$3" 2>/dev/null
  openssl ca -batch -config ca.cnf -extensions "$2" -in "$1.csr" -out "$1.pem" -notext 2>/dev/null
}
issue signer signer "/C=VN/O=Trường Tiểu học Fuzz/CN=Nguyễn Văn Fuzz"
issue revoked signer "/C=VN/O=Trường Tiểu học Fuzz/CN=Revoked Signer"
issue tsa tsa "/C=VN/O=hocba fuzz PKI/CN=Fuzz TSA"
issue ocsp ocsp "/C=VN/O=hocba fuzz PKI/CN=Fuzz OCSP Responder"
openssl ca -batch -config ca.cnf -revoke revoked.pem -crl_reason keyCompromise 2>/dev/null
der() { openssl x509 -in "$1.pem" -outform DER -out "$1.der"; }
for c in root signer revoked tsa ocsp; do der $c; done

rm -rf "$data" && mkdir -p "$data"
cp root.der signer.der "$data/"
cp ocsp.der "$data/ocsp-responder.der"
cp "$root/tests/data/pdf/form-empty-field.pdf" "$data/unsigned.pdf"

# --- OCSP and CRLs (fuzz_revocation) -----------------------------------------------------------------
c=$corpus/fuzz_revocation && rm -rf "$c" && mkdir -p "$c"
openssl ocsp -issuer root.pem -cert signer.pem -reqout "$data/ocsp-request.der" 2>/dev/null
openssl ocsp -issuer root.pem -cert signer.pem -no_nonce -reqout req-nononce.der 2>/dev/null
openssl ocsp -issuer root.pem -cert revoked.pem -no_nonce -reqout req-revoked.der 2>/dev/null
respond() { # request signer key out [more]
  openssl ocsp -index db/index.txt -CA root.pem -rsigner "$2.pem" -rkey "$2.key" -reqin "$1" -respout "$4" -ndays 3650 ${5:-} 2>/dev/null
}
respond "$data/ocsp-request.der" root root "$c/good-nonce.ocsp"
respond req-nononce.der root root "$c/good-by-issuer.ocsp"
respond req-nononce.der ocsp ocsp "$c/good-delegated.ocsp"
respond req-nononce.der ocsp ocsp "$c/good-delegated-nocerts.ocsp" -resp_no_certs
respond req-revoked.der root root "$c/revoked.ocsp"
openssl ca -batch -config ca.cnf -gencrl -out root.crl.pem 2>/dev/null
openssl crl -in root.crl.pem -outform DER -out "$c/root.crl"
cp root.crl.pem "$c/root-crl.pem"
{ printf '\r\n'; sed 's/$/\r/' root.crl.pem; } > "$c/root-crl-crlf.pem"  # PEM as some CAs serve it
cp signer.der "$c/signer-cert.der"
cp ocsp.der "$c/ocsp-cert.der"

# --- timestamps and CMS (fuzz_timestamp, fuzz_cms_verify) and PDFs (verify, sign) ---------------------
openssl pkcs8 -topk8 -nocrypt -in signer.key -out signer.key.p8 && mv signer.key.p8 signer.key
"$build/fuzz/fuzz_make_seeds" "$tmp" "$data/unsigned.pdf" 2>/dev/null || "$build/fuzz/fuzz_make_seeds" "$tmp" "$data/unsigned.pdf"
c=$corpus/fuzz_timestamp && rm -rf "$c" && mkdir -p "$c"
openssl ts -reply -config ts.cnf -queryfile tsq.der -signer tsa.pem -inkey tsa.key -chain root.pem -out "$c/granted.tsr" 2>/dev/null
openssl ts -reply -config ts.cnf -queryfile tsq.der -signer tsa.pem -inkey tsa.key -chain root.pem -token_out -out "$data/token.der" 2>/dev/null
cp "$data/token.der" "$c/token.der"
cp cms.der "$data/cms.der"
cp cms.der "$c/cms-bb.der"
# A rejection (status 2), by hand: TimeStampResp { PKIStatusInfo { 2 } }.
printf '\x30\x05\x30\x03\x02\x01\x02' > "$c/rejection.tsr"
c=$corpus/fuzz_cms_verify && rm -rf "$c" && mkdir -p "$c"
cp cms.der "$c/cms-bb.der"
python3 - "$tmp/signed-bt.pdf" "$c/cms-bt.der" <<'PY'
import re, sys
pdf = open(sys.argv[1], 'rb').read()
m = re.search(rb'/Contents\s*<([0-9a-fA-F]+)>', pdf)
h = m.group(1).rstrip(b'0')
if len(h) % 2: h += b'0'
open(sys.argv[2], 'wb').write(bytes.fromhex(h.decode()))
PY
c=$corpus/fuzz_pdf_verify && rm -rf "$c" && mkdir -p "$c"
cp signed-bb.pdf signed-bt.pdf signed-twice.pdf "$c/"
cp "$root/tests/data/pdf/qpdf-classic.pdf" "$c/"
c=$corpus/fuzz_pdf_sign && rm -rf "$c" && mkdir -p "$c"
for f in form-empty-field qpdf-classic qpdf-linearized qpdf-xrefstream cairo; do
  # The first byte picks the request's options (fuzz_pdf_sign.cpp).
  { printf '\x01'; cat "$root/tests/data/pdf/$f.pdf"; } > "$c/$f.bin"
done
{ printf '\x0b'; cat signed-bt.pdf; } > "$c/signed-bt.bin"
{ printf '\x14'; cat signed-bb.pdf; } > "$c/doc-timestamp.bin"

# --- embedded files (fuzz_pdf_attachment): small hand-made PDFs holding hocba-record.xml -----------------
c=$corpus/fuzz_pdf_attachment && rm -rf "$c" && mkdir -p "$c"
cp "$root/tests/data/pdf/qpdf-classic.pdf" "$c/"
python3 - "$c" <<'PY'
import sys, zlib
def pdf(objs, root=1):
    out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    x = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs: out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, root, x)
    return out
xml = '<?xml version="1.0" encoding="UTF-8"?>\n<hocbaRecord xmlns="urn:hocba-signer:record:1" formatVersion="1"/>\n'.encode()
z = zlib.compress(xml)
stream = b"<< /Type /EmbeddedFile /Subtype /application#2Fxml /Params << /Size %d >> /Filter /FlateDecode /Length %d >>\nstream\n" % (len(xml), len(z)) + z + b"\nendstream"
spec = b"<< /Type /Filespec /F (hocba-record.xml) /UF (hocba-record.xml) /AFRelationship /Data /EF << /F 4 0 R /UF 4 0 R >> >>"
pages = b"<< /Type /Pages /Kids [] /Count 0 >>"
# 1. a name tree with /Kids and /Limits
kids = pdf([b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 5 0 R >> >>", pages, spec, stream,
            b"<< /Kids [6 0 R] >>", b"<< /Limits [(hocba-record.xml) (hocba-record.xml)] /Names [(hocba-record.xml) 3 0 R] >>"])
# 2. only in /AF, the spec's /F only
af = pdf([b"<< /Type /Catalog /Pages 2 0 R /AF [3 0 R] >>", pages,
          b"<< /Type /Filespec /F (hocba-record.xml) /AFRelationship /Data /EF << /F 4 0 R >> >>", stream])
open(sys.argv[1] + "/name-tree-kids.pdf", "wb").write(kids)
open(sys.argv[1] + "/af-only.pdf", "wb").write(af)
PY

# --- class files (fuzz_class_import): two students of each sample ------------------------------------
c=$corpus/fuzz_class_import && rm -rf "$c" && mkdir -p "$c"
for f in primary-3A thcs-8A thpt-11A; do
  python3 - "$root/tests/data/samples/$f.json" "$c/$f.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding='utf-8'))
d['students'] = d['students'][:2]
open(sys.argv[2], 'w', encoding='utf-8').write(json.dumps(d, ensure_ascii=False, indent=1))
PY
done
# The hocba.class/v2 samples are small (every v2 field, 4 and 5 students): whole.
cp "$root/tests/data/samples/primary-4B-v2.json" "$root/tests/data/samples/thpt-12A-v2.json" "$c/"

# --- configuration (fuzz_config) ------------------------------------------------------------------------
c=$corpus/fuzz_config && rm -rf "$c" && mkdir -p "$c"
cp "$root/firmware-config/defaults.toml" "$c/defaults.toml"
cp "$root"/firmware-config/examples/*.toml "$c/"

# --- HTTP requests (fuzz_http_request) ------------------------------------------------------------------
c=$corpus/fuzz_http_request && rm -rf "$c" && mkdir -p "$c"
req() { printf '%b' "$2" > "$c/$1.http"; }
req healthz 'GET /healthz HTTP/1.1\r\nHost: hocba\r\n\r\n'
req login 'POST /api/v1/auth/login HTTP/1.1\r\nHost: hocba\r\nContent-Type: application/json\r\nContent-Length: 45\r\n\r\n{"username":"admin","password":"x","totp":""}'
req me-cookie 'GET /api/v1/me HTTP/1.1\r\nHost: hocba\r\nCookie: a=b; hocba_session=0123456789abcdef\r\n\r\n'
req records-query 'GET /api/v1/records?class_id=1&state=draft&q=Nguy%E1%BB%85n+V%C4%83n HTTP/1.1\r\nHost: hocba\r\nAuthorization: Bearer 0123456789abcdef\r\n\r\n'
req sign 'POST /api/v1/records/12/sign HTTP/1.1\r\nHost: hocba\r\nAuthorization: Bearer abc\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n{"pin":"111111","confirm_pin_risk":1}'
req csc-login 'POST /csc/v2/auth/login HTTP/1.1\r\nHost: hocba\r\nAuthorization: Basic YWRtaW46cGFzc3dvcmQ=\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'
req csc-info 'POST /csc/v1/info HTTP/1.1\r\nHost: hocba\r\nContent-Length: 0\r\n\r\n'
req csc-signhash 'POST /csc/v2/signatures/signHash HTTP/1.1\r\nHost: hocba\r\nAuthorization: Bearer t\r\nContent-Type: application/json\r\nContent-Length: 98\r\n\r\n{"credentialID":"key-1","SAD":"s","hashes":["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="],"hashAlgorithmOID":"2"}'
req chunked 'POST /api/v1/auth/login HTTP/1.1\r\nHost: hocba\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n5\r\n{"a":\r\n2\r\n1}\r\n0\r\n\r\n'
req web 'GET /?lang=vi HTTP/1.0\r\n\r\n'
req metrics 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'
req class-import 'POST /api/v1/classes HTTP/1.1\r\nHost: hocba\r\nCookie: hocba_session=x\r\nContent-Type: application/json\r\nContent-Length: 30\r\n\r\n{"format":"hocba.class/v1"}   '
# Behind the login: fuzz_http_request puts its admin's session token for SESSION_TOKEN.
req admin-users 'GET /api/v1/users HTTP/1.1\r\nHost: hocba\r\nCookie: hocba_session=SESSION_TOKEN\r\n\r\n'
req admin-audit 'GET /api/v1/audit?limit=5&after=0 HTTP/1.1\r\nHost: hocba\r\nAuthorization: Bearer SESSION_TOKEN\r\n\r\n'
req admin-config 'GET /api/v1/config HTTP/1.1\r\nHost: hocba\r\nAuthorization: Bearer SESSION_TOKEN\r\n\r\n'
req admin-patch-user 'PATCH /api/v1/users/1 HTTP/1.1\r\nHost: hocba\r\nAuthorization: Bearer SESSION_TOKEN\r\nContent-Type: application/json\r\nContent-Length: 26\r\n\r\n{"display_name":"Nguyễn"}'
req admin-keys 'POST /api/v1/keys HTTP/1.1\r\nHost: hocba\r\nAuthorization: Bearer SESSION_TOKEN\r\nContent-Type: application/json\r\nContent-Length: 58\r\n\r\n{"uri":"pkcs11:token=GVCN-3A;object=gvcn-3a","seal":true}'
req admin-jobs 'POST /api/v1/jobs HTTP/1.1\r\nHost: hocba\r\nAuthorization: Bearer SESSION_TOKEN\r\nContent-Type: application/json\r\nContent-Length: 39\r\n\r\n{"class_id":1,"field":"gvcn","pin":"1"}'
req admin-records 'GET /api/v1/records/1/pdf HTTP/1.1\r\nHost: hocba\r\nAuthorization: Bearer SESSION_TOKEN\r\n\r\n'
req admin-corrections 'POST /api/v1/records/1/corrections HTTP/1.1\r\nHost: hocba\r\nAuthorization: Bearer SESSION_TOKEN\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r\n{"reason":"sai"}  '
req csc-list 'POST /csc/v2/credentials/list HTTP/1.1\r\nHost: hocba\r\nAuthorization: Bearer SESSION_TOKEN\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'

du -sh "$corpus" "$data"
