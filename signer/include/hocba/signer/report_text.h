// The human-readable verification report in a chosen language. The verifier's result (VerifyReport) is
// data; the wording of every label, status and reason lives in one table of message keys
// (report_text.cpp), so the CLI (`hocba verify --lang`) and the web page /verify say the same thing.
// JSON (to_json) is not affected: its keys stay English.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "hocba/signer/verify.h"

namespace hocba::signer {

enum class Lang { en, vi };

// "en" or "vi"; anything else: nullopt.
std::optional<Lang> parse_lang(std::string_view s);

enum class Msg {
  n_signatures, sig_heading, in_field, valid, not_valid, signer, organisation, title, issued_by, signing_time,
  time_from_timestamp, time_claimed, unknown, timestamp_by, timestamp_ok, timestamp_bad, no_timestamp, integrity, intact,
  altered, coverage, whole_document, bytes_of, modified_after, trust_path, not_checked, trusted, untrusted, revocation,
  rev_good, rev_revoked, rev_unknown, rev_not_checked, revoked_on, pades_level, not_pades, pades_problems, long_term,
  lt_complete, lt_incomplete, archive_ts, doc_ts_heading, tsa_cert_expires, no_signature, overall_valid, overall_invalid,
  dss, count_
};

// The message for KEY in LANG (UTF-8).
const char* message(Msg key, Lang lang);

// en: exactly to_text(r). vi: the report entirely in Vietnamese (Circular 15/2025/TT-BKHCN) — signer,
// organisation, signing time and its source, integrity, trust path, revocation, PAdES level, changes
// after each signature; the verifier's English free-text details are replaced by their translated status.
std::string to_text(const VerifyReport& r, Lang lang);

}  // namespace hocba::signer
