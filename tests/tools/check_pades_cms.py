#!/usr/bin/python3
"""An independent, strict check of the PAdES signatures in a PDF (asn1crypto, not our code).

For every /ByteRange found in the file: the /Contents is exactly the hex string between the ranges; the
DER CMS decodes with asn1crypto and re-encodes to the same bytes (strict DER); it is SignedData with one
SignerInfo, detached (no eContent), eContentType id-data; the signed attributes are exactly
content-type, message-digest and signing-certificate-v2 (no signing-time), each with one value; the
message digest equals the hash of the byte ranges; signing-certificate-v2's ESSCertIDv2 names the
signer certificate (hash and issuerSerial); the signer certificate is in the certificates set.
Prints one line per signature; exits 1 on the first violation.
"""
import hashlib
import re
import sys

from asn1crypto import cms, core, tsp  # noqa: F401  (tsp registers timestamp structures)

HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main(path):
    data = open(path, "rb").read()
    found = 0
    for m in re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data):
        a, b, c, d = (int(x) for x in m.groups())
        if a != 0 or data[b:b + 1] != b"<" or data[c - 1:c] != b">":
            fail("ByteRange %s does not frame the /Contents hex string" % (m.groups(),))
        hexstr = data[b + 1:c - 1]
        if not re.fullmatch(rb"[0-9A-Fa-f]*", hexstr):
            fail("the gap is not a hex string")
        raw = bytes.fromhex(hexstr.decode())
        info = cms.ContentInfo.load(raw, strict=False)
        der = info.dump()
        if raw[:len(der)] != der or any(raw[len(der):]):
            fail("CMS is not strict DER, or has trailing non-zero bytes")
        if info["content_type"].native != "signed_data":
            fail("not SignedData")
        sd = info["content"]
        eci = sd["encap_content_info"]
        si0 = sd["signer_infos"][0] if len(sd["signer_infos"]) else None
        ours = eci["content_type"].native != "tst_info" and si0 is not None and not si0["unsigned_attrs"].native
        # Our own CMS re-encodes to the same bytes (canonical DER). Tokens made by a timestamp authority
        # (a document timestamp, or a signature timestamp inside ours) are the TSA's encoding: OpenSSL's
        # TSA, for one, keeps its certificates in insertion order, which BER allows.
        if ours and cms.ContentInfo.load(der).dump(force=True) != der:
            fail("CMS is not canonical DER")
        if si0 is not None and eci["content_type"].native != "tst_info":
            for attr in si0["signed_attrs"]:
                if cms.CMSAttribute.load(attr.dump()).dump(force=True) != attr.dump():
                    fail("signed attribute %s is not canonical DER" % attr["type"].native)
        if eci["content_type"].native == "tst_info":
            print("document timestamp at %d: %s" % (b, eci["content"].parsed["gen_time"].native))
            found += 1
            continue
        if eci["content_type"].native != "data":
            fail("eContentType is not id-data")
        if eci["content"].native is not None:
            fail("not detached")
        if len(sd["signer_infos"]) != 1:
            fail("%d SignerInfos (PAdES wants exactly one)" % len(sd["signer_infos"]))
        si = sd["signer_infos"][0]
        attrs = {attr["type"].native: attr for attr in si["signed_attrs"]}
        expected = {"content_type", "message_digest", "signing_certificate_v2"}
        if set(attrs) != expected:
            fail("signed attributes are %s, expected exactly %s" % (sorted(attrs), sorted(expected)))
        for attr in si["signed_attrs"]:
            if len(attr["values"]) != 1:
                fail("attribute %s has %d values" % (attr["type"].native, len(attr["values"])))
        # DER SET OF: the encoded attributes must be in ascending order.
        enc = [attr.dump() for attr in si["signed_attrs"]]
        if enc != sorted(enc):
            fail("signed attributes are not DER-sorted")
        algo = si["digest_algorithm"]["algorithm"].native
        h = HASHES[algo]()
        h.update(data[a:a + b])
        h.update(data[c:c + d])
        if attrs["message_digest"]["values"][0].native != h.digest():
            fail("message-digest does not match the byte ranges")
        sid = si["sid"].chosen
        certs = [cc.chosen for cc in sd["certificates"]]
        signer = None
        for cert in certs:
            if cert.issuer == sid["issuer"] and cert.serial_number == sid["serial_number"].native:
                signer = cert
        if signer is None:
            fail("the signer certificate is not in the CMS")
        scv2 = attrs["signing_certificate_v2"]["values"][0]
        ess = scv2["certs"][0]
        halg = ess["hash_algorithm"]["algorithm"].native
        if ess["cert_hash"].native != HASHES[halg](signer.dump()).digest():
            fail("ESSCertIDv2 hash does not match the signer certificate")
        iss = ess["issuer_serial"]
        if iss.native is not None and iss["serial_number"].native != signer.serial_number:
            fail("ESSCertIDv2 issuerSerial does not match")
        unsigned = [u["type"].native for u in (si["unsigned_attrs"] or [])] if si["unsigned_attrs"].native else []
        print("signature at %d: %s, %s, %s, %d certificate(s)%s" % (
            b, signer.subject.human_friendly, algo, si["signature_algorithm"]["algorithm"].native, len(certs),
            ", unsigned: " + ",".join(unsigned) if unsigned else ""))
        found += 1
    if found == 0:
        fail("no signature found")
    print("OK: %d signature(s)" % found)


if __name__ == "__main__":
    main(sys.argv[1])
