// The human-readable verification report: one table of message keys per language (report_text.h).
#include "hocba/signer/report_text.h"

#include <sstream>

namespace hocba::signer {

namespace {

struct Entry {
  Msg key;
  const char* en;
  const char* vi;
};

// Every label, status and reason word of the report. Order follows Msg.
constexpr Entry kMessages[] = {
    {Msg::n_signatures, "signature(s)", "chữ ký"},
    {Msg::sig_heading, "Signature", "Chữ ký"},
    {Msg::in_field, "in field", "trong trường"},
    {Msg::valid, "VALID", "HỢP LỆ"},
    {Msg::not_valid, "NOT VALID", "KHÔNG HỢP LỆ"},
    {Msg::signer, "Signer", "Người ký"},
    {Msg::organisation, "Organisation", "Tổ chức"},
    {Msg::title, "Title", "Chức danh"},
    {Msg::issued_by, "Issued by", "Cấp bởi"},
    {Msg::signing_time, "Signing time", "Thời điểm ký"},
    {Msg::time_from_timestamp, "from the timestamp", "theo dấu thời gian"},
    {Msg::time_claimed, "claimed by the signer", "do người ký khai"},
    {Msg::unknown, "(unknown)", "(không rõ)"},
    {Msg::timestamp_by, "Timestamp by", "Dấu thời gian do"},
    {Msg::timestamp_ok, "the token covers this signature and verifies", "dấu thời gian khớp với chữ ký này và được xác thực"},
    {Msg::timestamp_bad, "the timestamp is not valid", "dấu thời gian không hợp lệ"},
    {Msg::no_timestamp, "Timestamp: none", "Dấu thời gian: không có"},
    {Msg::integrity, "Integrity", "Toàn vẹn"},
    {Msg::intact, "intact", "còn nguyên vẹn"},
    {Msg::altered, "altered", "đã bị thay đổi"},
    {Msg::coverage, "Coverage", "Phạm vi ký"},
    {Msg::whole_document, "the whole document", "toàn bộ tệp"},
    {Msg::bytes_of, "bytes of", "byte trên tổng số"},
    {Msg::modified_after, "The file was changed after this signature", "Tệp đã bị sửa sau chữ ký này"},
    {Msg::trust_path, "Trust path", "Đường dẫn tin cậy"},
    {Msg::not_checked, "not checked", "chưa kiểm tra"},
    {Msg::trusted, "trusted", "tin cậy"},
    {Msg::untrusted, "NOT trusted", "KHÔNG tin cậy"},
    {Msg::revocation, "Revocation status", "Tình trạng thu hồi"},
    {Msg::rev_good, "not revoked", "chưa bị thu hồi"},
    {Msg::rev_revoked, "revoked", "đã bị thu hồi"},
    {Msg::rev_unknown, "unknown to the responder", "không xác định"},
    {Msg::rev_not_checked, "not checked (no revocation data in the document)", "chưa kiểm tra (tệp không chứa dữ liệu thu hồi)"},
    {Msg::revoked_on, "revoked on", "thu hồi lúc"},
    {Msg::pades_level, "PAdES level", "Mức PAdES"},
    {Msg::not_pades, "not PAdES", "không theo PAdES"},
    {Msg::pades_problems, "deviations from PAdES", "điểm không đúng chuẩn PAdES"},
    {Msg::long_term, "Long-term validation", "Kiểm tra dài hạn"},
    {Msg::lt_complete, "the document holds the validation data", "tệp chứa đủ dữ liệu kiểm tra"},
    {Msg::lt_incomplete, "validation data incomplete", "thiếu dữ liệu kiểm tra"},
    {Msg::archive_ts, "covered by the archive timestamp in", "được bảo vệ bởi dấu thời gian lưu trữ trong trường"},
    {Msg::doc_ts_heading, "Document timestamp", "Dấu thời gian tài liệu"},
    {Msg::tsa_cert_expires, "TSA certificate expires", "Chứng thư số của đơn vị cấp dấu thời gian hết hạn"},
    {Msg::no_signature, "The document carries no signature.", "Tệp không có chữ ký nào."},
    {Msg::overall_valid, "Result: every signature is valid", "Kết luận: mọi chữ ký đều hợp lệ"},
    {Msg::overall_invalid, "Result: not every signature is valid", "Kết luận: có chữ ký không hợp lệ"},
    {Msg::dss, "Validation data (DSS)", "Dữ liệu kiểm tra (DSS)"},
};
static_assert(sizeof(kMessages) / sizeof(kMessages[0]) == static_cast<std::size_t>(Msg::count_), "one entry per Msg");
constexpr bool in_key_order() {
  for (std::size_t i = 0; i < sizeof(kMessages) / sizeof(kMessages[0]); ++i)
    if (static_cast<std::size_t>(kMessages[i].key) != i) return false;
  return true;
}
static_assert(in_key_order(), "kMessages in the order of Msg");

// The value of ATTR ("CN", "O", "title") in an RFC 2253 name; "" when absent.
std::string rdn(const std::string& dn, const std::string& attr) {
  std::size_t at = 0;
  while (at < dn.size()) {
    std::size_t end = at;
    while (end < dn.size() && dn[end] != ',') end += dn[end] == '\\' ? 2 : 1;
    std::string part = dn.substr(at, std::min(end, dn.size()) - at);
    if (part.size() > attr.size() && part.compare(0, attr.size() + 1, attr + "=") == 0) {
      std::string v;
      for (std::size_t i = attr.size() + 1; i < part.size(); ++i) {
        if (part[i] == '\\' && i + 1 < part.size()) ++i;
        v += part[i];
      }
      return v;
    }
    at = end + 1;
  }
  return "";
}

// D:YYYYMMDDHHmmSS+07'00' -> YYYY-MM-DD HH:mm:SS+07:00 (other text unchanged).
std::string pdf_date(const std::string& m) {
  if (m.size() < 16 || m.compare(0, 2, "D:") != 0) return m;
  std::string s = m.substr(2, 4) + "-" + m.substr(6, 2) + "-" + m.substr(8, 2) + " " + m.substr(10, 2) + ":" + m.substr(12, 2) + ":" +
                  m.substr(14, 2);
  std::string tz = m.substr(16);
  if (tz == "Z" || tz.empty()) return s + (tz.empty() ? "" : "Z");
  if (tz.size() >= 6) return s + tz.substr(0, 3) + ":" + tz.substr(4, 2);
  return s + tz;
}

std::string to_text_vi(const VerifyReport& r) {
  auto t = [](Msg k) { return std::string(message(k, Lang::vi)); };
  std::ostringstream os;
  os << r.signatures.size() << " " << t(Msg::n_signatures) << ", " << r.revisions << " phiên bản, " << r.file_size << " byte\n";
  int i = 0;
  for (const auto& s : r.signatures) {
    os << "\n" << t(Msg::sig_heading) << " " << ++i << " " << t(Msg::in_field) << " \"" << s.field_name << "\": "
       << t(s.valid ? Msg::valid : Msg::not_valid) << "\n";
    std::string cn = rdn(s.signer_subject, "CN");
    os << "  " << t(Msg::signer) << ": " << (cn.empty() ? (s.signer_subject.empty() ? t(Msg::unknown) : s.signer_subject) : cn) << "\n";
    if (auto o = rdn(s.signer_subject, "O"); !o.empty()) os << "  " << t(Msg::organisation) << ": " << o << "\n";
    if (auto ti = rdn(s.signer_subject, "title"); !ti.empty()) os << "  " << t(Msg::title) << ": " << ti << "\n";
    if (!s.signer_issuer.empty()) {
      std::string icn = rdn(s.signer_issuer, "CN");
      os << "  " << t(Msg::issued_by) << ": " << (icn.empty() ? s.signer_issuer : icn) << "\n";
    }
    const auto& ts = s.timestamp;
    bool ts_good = ts.present && ts.imprint_matches && ts.verifies && !ts.time.empty();
    if (ts_good)
      os << "  " << t(Msg::signing_time) << ": " << ts.time << " (" << t(Msg::time_from_timestamp) << ")\n";
    else if (!s.signing_time.empty())
      os << "  " << t(Msg::signing_time) << ": " << pdf_date(s.signing_time) << " (" << t(Msg::time_claimed) << ")\n";
    if (ts.present) {
      std::string tsa = rdn(ts.tsa, "CN");
      os << "  " << t(Msg::timestamp_by) << ": " << (tsa.empty() ? (ts.tsa.empty() ? t(Msg::unknown) : ts.tsa) : tsa) << "; "
         << t(ts.imprint_matches && ts.verifies ? Msg::timestamp_ok : Msg::timestamp_bad) << "\n";
    } else if (s.type == "Sig") {
      os << "  " << t(Msg::no_timestamp) << "\n";
    }
    os << "  " << t(Msg::integrity) << ": " << t(s.intact ? Msg::intact : Msg::altered) << "\n";
    if (s.covers_whole_document)
      os << "  " << t(Msg::coverage) << ": " << t(Msg::whole_document) << "\n";
    else
      os << "  " << t(Msg::coverage) << ": " << s.covered_bytes << " " << t(Msg::bytes_of) << " " << r.file_size << "\n";
    if (s.later_revisions > 0) os << "  " << t(Msg::modified_after) << " (" << s.later_revisions << " lần)\n";
    os << "  " << t(Msg::trust_path) << ": ";
    switch (s.chain) {
      case SignatureReport::Chain::not_checked: os << t(Msg::not_checked) << "\n"; break;
      case SignatureReport::Chain::trusted:
        os << t(Msg::trusted);
        for (const auto& c : s.chain_subjects) {
          std::string ccn = rdn(c, "CN");
          os << "\n      " << (ccn.empty() ? c : ccn);
        }
        os << "\n";
        break;
      case SignatureReport::Chain::untrusted: os << t(Msg::untrusted) << "\n"; break;
    }
    if (s.type == "Sig") {
      const auto& rv = s.revocation;
      Msg st = rv.status == "good" ? Msg::rev_good : rv.status == "revoked" ? Msg::rev_revoked
                                                 : rv.status == "unknown" ? Msg::rev_unknown : Msg::rev_not_checked;
      os << "  " << t(Msg::revocation) << ": " << t(st);
      if (rv.status != "not_checked") {
        std::string src = rv.source == "DSS OCSP" ? "OCSP" : rv.source == "DSS CRL" ? "CRL" : rv.source;
        os << " (" << src << (rv.produced.empty() ? "" : ", " + rv.produced) << ")";
      }
      if (!rv.revoked_at.empty()) os << ", " << t(Msg::revoked_on) << " " << rv.revoked_at;
      os << "\n";
    }
    os << "  " << t(Msg::pades_level) << ": " << (s.level.empty() ? t(Msg::not_pades) : s.level) << "\n";
    if (!s.pades_problems.empty()) os << "  " << s.pades_problems.size() << " " << t(Msg::pades_problems) << "\n";
    if (s.type == "Sig" && (s.long_term.dss_complete || !s.long_term.missing.empty())) {
      os << "  " << t(Msg::long_term) << ": " << t(s.long_term.dss_complete ? Msg::lt_complete : Msg::lt_incomplete);
      if (s.long_term.dss_complete && !s.long_term.archive_timestamp.empty())
        os << ", " << t(Msg::archive_ts) << " \"" << s.long_term.archive_timestamp << "\"";
      os << "\n";
    }
  }
  int k = 0;
  for (const auto& d : r.document_timestamps) {
    os << "\n" << t(Msg::doc_ts_heading) << " " << ++k << " " << t(Msg::in_field) << " \"" << d.field_name << "\": "
       << t(d.valid ? Msg::valid : Msg::not_valid) << "\n";
    if (!d.time.empty()) {
      std::string tsa = rdn(d.tsa, "CN");
      os << "  " << t(Msg::signing_time) << ": " << d.time << "; " << t(Msg::timestamp_by) << ": " << (tsa.empty() ? d.tsa : tsa) << "\n";
    }
    if (!d.tsa_certificate_expires.empty()) os << "  " << t(Msg::tsa_cert_expires) << ": " << d.tsa_certificate_expires << "\n";
    os << "  " << t(Msg::integrity) << ": " << t(d.intact ? Msg::intact : Msg::altered) << "\n";
    if (d.later_revisions > 0) os << "  " << t(Msg::modified_after) << " (" << d.later_revisions << " lần)\n";
  }
  if (r.dss_present)
    os << "\n" << t(Msg::dss) << ": " << r.dss_certs << " chứng thư số, " << r.dss_ocsps << " phản hồi OCSP, " << r.dss_crls << " CRL\n";
  if (r.signatures.empty()) os << t(Msg::no_signature) << "\n";
  os << "\n" << t(r.all_valid ? Msg::overall_valid : Msg::overall_invalid) << ".\n";
  return os.str();
}

}  // namespace

std::optional<Lang> parse_lang(std::string_view s) {
  if (s == "en") return Lang::en;
  if (s == "vi") return Lang::vi;
  return std::nullopt;
}

const char* message(Msg key, Lang lang) {
  const auto& e = kMessages[static_cast<std::size_t>(key)];
  return lang == Lang::vi ? e.vi : e.en;
}

std::string to_text(const VerifyReport& r, Lang lang) { return lang == Lang::vi ? to_text_vi(r) : to_text(r); }

}  // namespace hocba::signer
