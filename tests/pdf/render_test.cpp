// Rendering records (render.h): every sample renders to a well-formed PDF/A-3b file whose fonts are
// embedded subsets, whose text extracts back exactly (names, IDs, comments, values), which carries the
// student's JSON as its associated file, three empty signature fields and the appearance font with the
// whole Vietnamese alphabet; the same input gives the same bytes; long text spills onto further pages
// without clipping; the pages still look like the committed reference pictures (docs/render-*.png); the
// font programs prepared once per process (render_fonts.h) give the same bytes on several threads at
// once, hold characters beyond the alphabet when a record has them, and follow a font file replaced on
// disk. `hocba render` end to end at the bottom.
//
// HOCBA_UPDATE_REFERENCE=1 makes Render.ReferenceImages rewrite the reference pictures instead of
// comparing (scripts/update-reference-images.sh).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hocba/common/fileio.h"
#include "hocba/pdf/record.h"
#include "hocba/pdf/record_xml.h"
#include "hocba/pdf/render.h"
#include "hocba/pdf/signing.h"
#include "pdf_tools.h"
#include "test_env.h"

using namespace hocba;
using namespace hocba::pdf;
namespace json = boost::json;
using test::pdf::collapse;
using test::pdf::page_count;
using test::pdf::pdftotext;
using test::pdf::sh_quote;
using test::pdf::write_pdf;

namespace {

const char* kSamples[] = {"primary-3A.json", "primary-5A.json", "thcs-8A.json",       "thpt-11A.json",
                          "primary-4B-v2.json", "thcs-9A-v2.json", "thpt-12A-v2.json"};

using test::pdf::sample;

Bytes render_or_throw(const ClassInfo& cls, const Student& st, const RenderOptions& opts = {}) {
  auto r = render_record(cls, st, opts);
  if (!r) throw std::runtime_error("render_record: " + r.error().message);
  return *r;
}

// What the official forms print of a record (not everything the data holds: Circular 27's student page
// has no parents' occupations and its year page no homeroom comment; Circular 22's subject table has no
// comment column — those stay in the attached JSON and XML).
std::vector<std::string> expected_texts(const ClassInfo& cls, const Student& st) {
  std::vector<std::string> v = {st.full_name, st.personal_id, st.place_of_birth, st.residence, cls.school_name,
                                cls.homeroom_teacher.name, cls.principal.name};
  for (const auto* p : {&st.father, &st.mother, &st.guardian})
    if (*p) {
      v.push_back((*p)->name);
      if (!st.primary) v.push_back((*p)->occupation);
    }
  if (!st.policy_status.empty() && !st.primary) v.push_back(st.policy_status);
  if (st.primary) {
    for (const auto& s : st.primary->subjects) v.insert(v.end(), {s.subject, s.comment});
    for (const auto* list : {&st.primary->qualities, &st.primary->general_competencies, &st.primary->specific_competencies})
      for (const auto& r : *list) v.insert(v.end(), {r.name, r.comment});
    v.push_back(st.primary->overall);
    v.insert(v.end(), st.primary->awards.begin(), st.primary->awards.end());
  }
  if (st.secondary) {
    char b[16];
    for (const auto& s : st.secondary->subjects) {
      v.push_back(s.subject);
      for (const auto& x : {s.hk1, s.hk2, s.year})
        if (x) {
          std::snprintf(b, sizeof b, "%.1f", *x);
          std::string n = b;
          n[n.find('.')] = ',';  // Vietnamese decimals: 7,6
          v.push_back(n);
        }
    }
    const std::string& o = st.secondary->outcome;
    v.insert(v.end(), {st.secondary->learning.year, st.secondary->conduct.year,
                       o == "Lên lớp" ? "Được lên lớp" : o == "Ở lại lớp" ? "Không được lên lớp" : o,
                       st.secondary->homeroom_comment});
    v.insert(v.end(), st.secondary->awards.begin(), st.secondary->awards.end());
  }
  std::vector<std::string> out;
  for (auto& s : v)
    if (!collapse(s).empty()) out.push_back(collapse(s));
  return out;
}

// ---- qpdf's JSON view of a file ---------------------------------------------------------------

struct PdfObjects {
  json::object objs;
  const json::value* get(const std::string& ref) const {  // "12 0 R"
    auto it = objs.find("obj:" + ref);
    if (it == objs.end()) return nullptr;
    const json::object& o = it->value().as_object();
    if (auto v = o.find("value"); v != o.end()) return &v->value();
    if (auto s = o.find("stream"); s != o.end()) return &s->value().as_object().at("dict");
    return nullptr;
  }
  // A dictionary entry, following one indirect reference.
  const json::value* key(const json::value* dict, const char* k) const {
    if (!dict || !dict->is_object()) return nullptr;
    auto it = dict->as_object().find(k);
    if (it == dict->as_object().end()) return nullptr;
    const json::value& v = it->value();
    if (v.is_string() && std::string(v.as_string()).size() > 2 && std::string(v.as_string()).ends_with(" R")) return get(std::string(v.as_string()));
    return &v;
  }
  const json::value* trailer() const {
    auto it = objs.find("trailer");
    return it == objs.end() ? nullptr : &it->value().as_object().at("value");
  }
};

PdfObjects qpdf_objects(const std::string& path) {
  auto r = test::run("qpdf --json=2 --json-key=qpdf " + sh_quote(path));
  if (r.status != 0) throw std::runtime_error("qpdf --json: " + r.out);
  json::value v = json::parse(r.out);
  return PdfObjects{v.as_object().at("qpdf").as_array().at(1).as_object()};
}

std::string str(const json::value* v) {  // qpdf's "u:text" / "/Name" / "b:hex" as text
  if (!v || !v->is_string()) return "";
  std::string s(v->as_string());
  if (s.rfind("u:", 0) == 0 || s.rfind("b:", 0) == 0) return s.substr(2);
  return s;
}

std::string stream_data(const std::string& path, const std::string& ref) {
  auto r = test::run("qpdf --show-object=" + sh_quote(ref.substr(0, ref.find(' '))) + " --filtered-stream-data " + sh_quote(path));
  EXPECT_EQ(r.status, 0) << r.out;
  return r.out;
}

std::string ref_of(const json::value* dict, const char* k) {
  if (!dict || !dict->is_object()) return "";
  auto it = dict->as_object().find(k);
  return it == dict->as_object().end() || !it->value().is_string() ? "" : std::string(it->value().as_string());
}

std::vector<double> numbers(const json::value* v) {
  std::vector<double> out;
  if (v && v->is_array())
    for (const auto& x : v->as_array()) out.push_back(x.is_double() ? x.as_double() : static_cast<double>(x.to_number<double>()));
  return out;
}

// Code points a ToUnicode CMap maps to (bfrange with arrays, bfrange, bfchar).
std::set<char32_t> to_unicode_targets(const std::string& cmap) {
  std::set<char32_t> out;
  auto hexes = [](const std::string& s) {
    std::vector<std::string> v;
    for (std::size_t i = s.find('<'); i != std::string::npos; i = s.find('<', i + 1)) v.push_back(s.substr(i + 1, s.find('>', i) - i - 1));
    return v;
  };
  std::istringstream in(cmap);
  std::string line;
  bool range = false, chr = false;
  while (std::getline(in, line)) {
    if (line.find("beginbfrange") != std::string::npos) { range = true; continue; }
    if (line.find("endbfrange") != std::string::npos) { range = false; continue; }
    if (line.find("beginbfchar") != std::string::npos) { chr = true; continue; }
    if (line.find("endbfchar") != std::string::npos) { chr = false; continue; }
    auto h = hexes(line);
    if (range && h.size() >= 3) {
      if (line.find('[') != std::string::npos) {
        for (std::size_t i = 2; i < h.size(); ++i) out.insert(static_cast<char32_t>(std::stoul(h[i], nullptr, 16)));
      } else {
        unsigned lo = std::stoul(h[0], nullptr, 16), hi = std::stoul(h[1], nullptr, 16), u = std::stoul(h[2], nullptr, 16);
        for (unsigned c = lo; c <= hi; ++c) out.insert(static_cast<char32_t>(u + c - lo));
      }
    } else if (chr && h.size() >= 2) {
      out.insert(static_cast<char32_t>(std::stoul(h[1], nullptr, 16)));
    }
  }
  return out;
}

std::u32string u32(const std::string& s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    char32_t cp = n == 1 ? c : c & (0x7f >> n);
    for (std::size_t j = 1; j < n && i + j < s.size(); ++j) cp = (cp << 6) | (static_cast<unsigned char>(s[i + j]) & 0x3f);
    out.push_back(cp);
    i += n;
  }
  return out;
}

// ---- The per-file checks ------------------------------------------------------------------------

void check_file(const std::string& path, const Bytes& pdf, const ClassInfo& cls, const Student& st) {
  SCOPED_TRACE(st.full_name + " " + st.personal_id);
  ASSERT_GT(pdf.size(), 1000u);
  EXPECT_EQ(std::string(pdf.begin(), pdf.begin() + 8), "%PDF-1.7");

  auto check = test::run("qpdf --check " + sh_quote(path));
  EXPECT_EQ(check.status, 0) << check.out;

  // Every font embedded and subset; never a base-14 font.
  auto fonts = test::run("pdffonts " + sh_quote(path));
  ASSERT_EQ(fonts.status, 0) << fonts.out;
  std::istringstream fl(fonts.out);
  std::string line;
  int n_fonts = 0;
  while (std::getline(fl, line)) {
    if (line.rfind("name", 0) == 0 || line.rfind("----", 0) == 0 || line.empty()) continue;
    ++n_fonts;
    EXPECT_NE(line.find("CID TrueType"), std::string::npos) << line;
    EXPECT_NE(line.find(" yes yes yes "), std::string::npos) << "not embedded+subset+ToUnicode: " << line;
    EXPECT_NE(line.find('+'), std::string::npos) << "no subset tag: " << line;
  }
  EXPECT_EQ(n_fonts, 3) << fonts.out;

  // The text comes back exactly (spaces collapsed: comments may wrap).
  std::string text = collapse(pdftotext(path));
  for (const auto& s : expected_texts(cls, st)) EXPECT_NE(text.find(s), std::string::npos) << "missing from pdftotext: \"" << s << "\"";

  // The student's JSON is the associated file.
  auto list = test::run("pdfdetach -list " + sh_quote(path));
  EXPECT_NE(list.out.find("1: " + st.personal_id + ".json"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("2: hocba-record.xml"), std::string::npos) << list.out;
  std::string saved = path + ".json";
  auto save = test::run("pdfdetach -save 1 -o " + sh_quote(saved) + " " + sh_quote(path));
  ASSERT_EQ(save.status, 0) << save.out;
  EXPECT_EQ(test::read_text(saved), st.source_json);

  // The three empty signature fields, by name.
  auto ins = inspect(pdf);
  ASSERT_TRUE(ins) << ins.error().message;
  std::vector<std::string> names = ins->empty_signature_fields;
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"con_dau", "gvcn", "hieu_truong"}));
  EXPECT_TRUE(ins->signatures.empty());
}

}  // namespace

// Every student of thpt-11A, the first five of the other classes.
TEST(Render, AllSamplesRender) {
  test::TempDir dir;
  for (const char* name : kSamples) {
    const ClassFile& cf = sample(name);
    ASSERT_TRUE(cf.errors.empty()) << name;
    std::size_t n = std::string(name) == "thpt-11A.json" ? cf.students.size() : std::min<std::size_t>(5, cf.students.size());
    for (std::size_t i = 0; i < n; ++i) {
      const Student& st = cf.students[i];
      Bytes pdf = render_or_throw(cf.info, st);
      std::string path = write_pdf(dir, st.personal_id + ".pdf", pdf);
      check_file(path, pdf, cf.info, st);
    }
  }
}

TEST(Render, MakesOnlyTheSignatureFieldsAsked) {
  const ClassFile& cf = sample("primary-3A.json");
  RenderOptions ro;
  ro.fields = {kFieldPrincipal, kFieldSeal};  // a school whose homeroom teachers do not sign
  auto pdf = render_record(cf.info, cf.students[0], ro);
  ASSERT_TRUE(pdf.ok()) << pdf.error().message;
  auto in = inspect(*pdf);
  ASSERT_TRUE(in.ok()) << in.error().message;
  EXPECT_EQ(in->empty_signature_fields, (std::vector<std::string>{kFieldPrincipal, kFieldSeal}));
  auto all = render_record(cf.info, cf.students[0]);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(inspect(*all)->empty_signature_fields.size(), 3u);
}

TEST(Render, Deterministic) {
  test::TempDir dir;
  for (const char* name : kSamples) {
    const ClassFile& cf = sample(name);
    Bytes a = render_or_throw(cf.info, cf.students[0]);
    Bytes b = render_or_throw(cf.info, cf.students[0]);
    EXPECT_TRUE(a == b) << name << ": two renders differ";
  }
  // The identifier comes from the input: different students, different /ID; never PoDoFo's clock.
  const ClassFile& cf = sample("thcs-8A.json");
  auto id_of = [&](const Student& st) {
    std::string path = write_pdf(dir, st.personal_id + ".pdf", render_or_throw(cf.info, st));
    auto objs = qpdf_objects(path);
    const json::value* ids = objs.key(objs.trailer(), "/ID");
    EXPECT_TRUE(ids && ids->is_array() && ids->as_array().size() == 2);
    return ids ? str(&ids->as_array()[0]) + str(&ids->as_array()[1]) : std::string();
  };
  std::string id0 = id_of(cf.students[0]), id1 = id_of(cf.students[1]);
  EXPECT_EQ(id0.size(), 64u);
  EXPECT_NE(id0, id1);
}

// The archival structure, read back through qpdf.
TEST(Render, PdfA3Structure) {
  test::TempDir dir;
  const ClassFile& cf = sample("thpt-11A.json");
  const Student& st = cf.students[0];
  std::string path = write_pdf(dir, "a.pdf", render_or_throw(cf.info, st));
  auto o = qpdf_objects(path);
  const json::value* root = o.key(o.trailer(), "/Root");
  ASSERT_TRUE(root);

  // XMP: PDF/A-3b, title, producer, the record's fields; unfiltered.
  std::string md_ref = ref_of(root, "/Metadata");
  ASSERT_FALSE(md_ref.empty());
  EXPECT_EQ(o.key(o.get(md_ref), "/Filter"), nullptr);
  std::string xmp = stream_data(path, md_ref);
  for (const std::string& s : std::vector<std::string>{"<pdfaid:part>3</pdfaid:part>", "<pdfaid:conformance>B</pdfaid:conformance>",
                              "<pdf:Producer>hocba-signer</pdf:Producer>", "Học bạ – " + st.full_name + " – 11A – 2024-2025",
                              "<hocba:PersonalID>" + st.personal_id + "</hocba:PersonalID>",
                              "<hocba:StudentName>" + st.full_name + "</hocba:StudentName>",
                              "<hocba:School>Trường THPT Tây Hồ</hocba:School>", "<hocba:SchoolYear>2024-2025</hocba:SchoolYear>",
                              "<xmp:CreateDate>2025-05-31T00:00:00+07:00</xmp:CreateDate>", "pdfaExtension:schemas"})
    EXPECT_NE(xmp.find(s), std::string::npos) << s;

  // Info agrees with the XMP; dates from the school year, not the clock.
  const json::value* info = o.key(o.trailer(), "/Info");
  EXPECT_EQ(str(o.key(info, "/Title")), "Học bạ – " + st.full_name + " – 11A – 2024-2025");
  EXPECT_EQ(str(o.key(info, "/Producer")), "hocba-signer");
  EXPECT_EQ(str(o.key(info, "/CreationDate")), "D:20250531000000+07'00'");
  EXPECT_EQ(str(o.key(info, "/ModDate")), "D:20250531000000+07'00'");

  // sRGB OutputIntent with an ICC stream.
  const json::value* intents = o.key(root, "/OutputIntents");
  ASSERT_TRUE(intents && intents->is_array() && intents->as_array().size() == 1);
  const json::value* intent = o.get(std::string(intents->as_array()[0].as_string()));
  EXPECT_EQ(str(o.key(intent, "/S")), "/GTS_PDFA1");
  const json::value* icc = o.key(intent, "/DestOutputProfile");
  ASSERT_TRUE(icc);
  EXPECT_EQ(o.key(icc, "/N")->to_number<int>(), 3);

  // The JSON and the XML twin as associated files: /AF and /Names /EmbeddedFiles.
  const json::value* af = o.key(root, "/AF");
  ASSERT_TRUE(af && af->is_array() && af->as_array().size() == 2);
  const json::value* spec = o.get(std::string(af->as_array()[0].as_string()));
  EXPECT_EQ(str(o.key(spec, "/AFRelationship")), "/Source");
  EXPECT_EQ(str(o.key(spec, "/F")), st.personal_id + ".json");
  EXPECT_EQ(str(o.key(spec, "/UF")), st.personal_id + ".json");
  EXPECT_FALSE(str(o.key(spec, "/Desc")).empty());
  const json::value* ef = o.key(o.key(spec, "/EF"), "/F");
  EXPECT_EQ(str(o.key(ef, "/Subtype")), "/application/json");
  EXPECT_EQ(str(o.key(o.key(ef, "/Params"), "/ModDate")), "D:20250531000000+07'00'");
  const json::value* xml_spec = o.get(std::string(af->as_array()[1].as_string()));
  EXPECT_EQ(str(o.key(xml_spec, "/AFRelationship")), "/Data");
  EXPECT_EQ(str(o.key(xml_spec, "/F")), "hocba-record.xml");
  EXPECT_EQ(str(o.key(xml_spec, "/UF")), "hocba-record.xml");
  EXPECT_FALSE(str(o.key(xml_spec, "/Desc")).empty());
  const json::value* xml_ef = o.key(o.key(xml_spec, "/EF"), "/F");
  EXPECT_EQ(str(o.key(xml_ef, "/Type")), "/EmbeddedFile");
  EXPECT_EQ(str(o.key(xml_ef, "/Subtype")), "/application/xml");
  EXPECT_EQ(str(o.key(o.key(xml_ef, "/Params"), "/ModDate")), "D:20250531000000+07'00'");
  std::string xml = record_xml(cf.info, st, {});
  EXPECT_EQ(o.key(o.key(xml_ef, "/Params"), "/Size")->to_number<std::size_t>(), xml.size());
  EXPECT_EQ(stream_data(path, ref_of(o.key(xml_spec, "/EF"), "/F")), xml);
  // One name tree leaf, its keys in byte order ("0…9" before "h").
  const json::value* embedded = o.key(o.key(o.key(root, "/Names"), "/EmbeddedFiles"), "/Names");
  ASSERT_TRUE(embedded && embedded->is_array() && embedded->as_array().size() == 4);
  EXPECT_EQ(str(&embedded->as_array()[0]), st.personal_id + ".json");
  EXPECT_EQ(str(&embedded->as_array()[2]), "hocba-record.xml");
  EXPECT_EQ(std::string(embedded->as_array()[1].as_string()), std::string(af->as_array()[0].as_string()));
  EXPECT_EQ(std::string(embedded->as_array()[3].as_string()), std::string(af->as_array()[1].as_string()));

  // No encryption, no transparency groups.
  EXPECT_EQ(o.key(o.trailer(), "/Encrypt"), nullptr);
  for (const auto& [k, v] : o.objs) {
    const json::value* d = o.get(std::string(k).substr(4));
    if (!d || !d->is_object()) continue;
    EXPECT_EQ(d->as_object().find("/Group"), d->as_object().end()) << k;
    EXPECT_EQ(d->as_object().find("/SMask"), d->as_object().end()) << k;
    // Every font is an embedded subset (no base-14 font anywhere, /DR included).
    if (str(o.key(d, "/Type")) == "/Font") {
      EXPECT_NE(str(o.key(d, "/BaseFont")).find('+'), std::string::npos) << k;
      std::string sub = str(o.key(d, "/Subtype"));
      EXPECT_TRUE(sub == "/Type0" || sub == "/CIDFontType2") << k << " " << sub;
    }
  }

  // AcroForm: the three fields, no /SigFlags yet, /DR with the appearance font.
  const json::value* acro = o.key(root, "/AcroForm");
  ASSERT_TRUE(acro);
  const json::value* sigflags = o.key(acro, "/SigFlags");
  EXPECT_TRUE(!sigflags || sigflags->to_number<int>() == 0);
  const json::value* drfont = o.key(o.key(o.key(acro, "/DR"), "/Font"), (std::string("/") + kAppearanceFontName).c_str());
  ASSERT_TRUE(drfont) << "no /DR /Font /" << kAppearanceFontName;
  EXPECT_EQ(str(o.key(drfont, "/Subtype")), "/Type0");
  EXPECT_EQ(str(o.key(drfont, "/Encoding")), "/Identity-H");
  std::set<char32_t> mapped = to_unicode_targets(stream_data(path, ref_of(drfont, "/ToUnicode")));
  std::u32string alphabet;
  for (char32_t c = 0x20; c < 0x7f; ++c) alphabet.push_back(c);
  alphabet += u32("ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúýĂăĐđĨĩŨũƠơƯư–×");
  for (char32_t c = 0x1ea0; c <= 0x1ef9; ++c) alphabet.push_back(c);
  for (char32_t c : alphabet) EXPECT_TRUE(mapped.count(c)) << "appearance font lacks U+" << std::hex << static_cast<unsigned>(c);

  struct Field {
    std::vector<double> rect;
    std::string page;
  };
  std::map<std::string, Field> fields;
  const json::value* list = o.key(acro, "/Fields");
  ASSERT_TRUE(list && list->is_array());
  for (const auto& r : list->as_array()) {
    const json::value* f = o.get(std::string(r.as_string()));
    EXPECT_EQ(str(o.key(f, "/FT")), "/Sig");
    EXPECT_EQ(str(o.key(f, "/Subtype")), "/Widget");
    EXPECT_EQ(o.key(f, "/F")->to_number<int>(), 4);
    EXPECT_EQ(o.key(f, "/V"), nullptr);
    auto rect = numbers(o.key(f, "/Rect"));
    ASSERT_EQ(rect.size(), 4u);
    EXPECT_GT(rect[2] - rect[0], 50);
    EXPECT_GT(rect[3] - rect[1], 50);
    const json::value* ap = o.key(o.key(f, "/AP"), "/N");
    ASSERT_TRUE(ap);
    auto bbox = numbers(o.key(ap, "/BBox"));
    ASSERT_EQ(bbox.size(), 4u);
    EXPECT_NEAR(bbox[2] - bbox[0], rect[2] - rect[0], 0.02);
    EXPECT_NEAR(bbox[3] - bbox[1], rect[3] - rect[1], 0.02);
    std::string page = ref_of(f, "/P");
    const json::value* annots = o.key(o.get(page), "/Annots");
    ASSERT_TRUE(annots && annots->is_array());
    EXPECT_NE(std::find(annots->as_array().begin(), annots->as_array().end(), json::value(r)), annots->as_array().end());
    fields[str(o.key(f, "/T"))] = {rect, page};
  }
  ASSERT_EQ(fields.size(), 3u);
  // Decree 30/2020: the seal overlaps about the left third of the principal's signature, and all three
  // sit on the same (last) page.
  const auto& p = fields.at(kFieldPrincipal).rect;
  const auto& s = fields.at(kFieldSeal).rect;
  const auto& g = fields.at(kFieldHomeroom).rect;
  double overlap = std::min(p[2], s[2]) - std::max(p[0], s[0]);
  EXPECT_NEAR(overlap / (p[2] - p[0]), 1.0 / 3, 0.05);
  EXPECT_LT(s[0], p[0]);
  EXPECT_LT(g[2], s[0]) << "the seal must not cover the homeroom teacher's box";
  EXPECT_EQ(fields.at(kFieldSeal).page, fields.at(kFieldPrincipal).page);
  EXPECT_EQ(fields.at(kFieldHomeroom).page, fields.at(kFieldPrincipal).page);
}

namespace {

// A text of about `chars` characters, in sentences that are easy to find again.
std::string long_text(std::size_t chars) {
  std::string out;
  for (int i = 1; u32(out).size() < chars; ++i)
    out += (out.empty() ? "" : " ") + std::string("Câu số ") + std::to_string(i) +
           ": em chăm chỉ, tích cực phát biểu xây dựng bài, biết giúp đỡ bạn bè và hoàn thành tốt nhiệm vụ được giao.";
  return out;
}

}  // namespace

TEST(Render, LongHomeroomCommentSpillsOntoAnotherPage) {
  test::TempDir dir;
  RenderOptions opts;
  opts.form.primary_homeroom_comment = true;  // Circular 27's form has no such section; the option prints one
  for (const char* name : {"primary-3A.json", "thpt-11A.json"}) {
    const ClassFile& cf = sample(name);
    Student st = cf.students[0];
    std::string normal = write_pdf(dir, "normal.pdf", render_or_throw(cf.info, st, opts));
    std::string comment = long_text(3500);
    ASSERT_GE(u32(comment).size(), 3500u);
    (st.primary ? st.primary->homeroom_comment : st.secondary->homeroom_comment) = comment;
    std::string path = write_pdf(dir, "long.pdf", render_or_throw(cf.info, st, opts));
    EXPECT_GT(page_count(path), page_count(normal)) << name;
    // The comment whole and in order, whatever page footers come between its lines.
    std::string text;
    std::istringstream lines(pdftotext(path));
    for (std::string l; std::getline(lines, l);)
      if (l.rfind("Học bạ – ", 0) != 0 && l.rfind("Trang ", 0) != 0) text += l + "\n";
    EXPECT_NE(collapse(text).find(collapse(comment)), std::string::npos) << name << ": the long comment was clipped";
    EXPECT_EQ(test::run("qpdf --check " + sh_quote(path)).status, 0);
  }
}

// A subject comment longer than a page: the row splits across pages, the table header repeats, every
// word is there once and in order.
TEST(Render, TallTableRowSplitsAcrossPages) {
  test::TempDir dir;
  const ClassFile& cf = sample("thcs-8A.json");
  Student st = cf.students[0];
  std::string comment;
  for (int i = 1; i <= 700; ++i) comment += (i > 1 ? " " : "") + std::string("ý") + std::to_string(10000 + i);
  st.secondary->subjects[1].comment = comment;
  RenderOptions opts;
  opts.form.secondary_subject_comments = true;  // the comment column, which Circular 22's form does not have
  std::string path = write_pdf(dir, "tall.pdf", render_or_throw(cf.info, st, opts));
  EXPECT_GE(page_count(path), 5);
  std::string text = collapse(pdftotext(path));
  std::size_t at = 0;
  for (int i = 1; i <= 700; ++i) {
    std::string w = "ý" + std::to_string(10000 + i);
    auto next = text.find(w, at);
    ASSERT_NE(next, std::string::npos) << w << " missing or out of order";
    EXPECT_EQ(text.find(w, next + 1), std::string::npos) << w << " twice";
    at = next;
  }
  std::size_t headers = 0;
  for (auto p = text.find("Môn học, hoạt động giáo dục"); p != std::string::npos; p = text.find("Môn học, hoạt động giáo dục", p + 1))
    ++headers;
  EXPECT_GE(headers, 2u) << "the table header must repeat on the next page";
  for (const auto& s : expected_texts(cf.info, st)) {
    if (s == collapse(comment)) continue;
    EXPECT_NE(text.find(s), std::string::npos) << s;
  }
}

TEST(Render, MissingFontIsAnError) {
  const ClassFile& cf = sample("primary-3A.json");
  RenderOptions o;
  o.font_bold = "/nonexistent/LiberationSerif-Bold.ttf";
  auto r = render_record(cf.info, cf.students[0], o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::not_found);
  EXPECT_NE(r.error().message.find("/nonexistent/LiberationSerif-Bold.ttf"), std::string::npos);
  o = RenderOptions{};
  o.icc_profile = "/nonexistent/srgb.icc";
  r = render_record(cf.info, cf.students[0], o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::not_found);
}

// ---- Font programs shared by the whole process ------------------------------------------------------

namespace {

// The fonts' names as pdffonts lists them ("ABCDEF+LiberationSerif"), in the order of the file.
std::vector<std::string> font_names(const std::string& path) {
  auto r = test::run("pdffonts " + sh_quote(path));
  EXPECT_EQ(r.status, 0) << r.out;
  std::vector<std::string> names;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("name", 0) == 0 || line.rfind("----", 0) == 0 || line.empty()) continue;
    EXPECT_NE(line.find(" yes yes yes "), std::string::npos) << "not embedded+subset+ToUnicode: " << line;
    names.push_back(line.substr(0, line.find(' ')));
  }
  return names;
}

}  // namespace

// The faces are loaded on first use and shared by every thread: renders on four threads at once, from
// a cold start (ctest runs each test in its own process), give the bytes of one render alone, for
// records of the alphabet and for one that needs a program beyond it.
TEST(Render, ConcurrentRendersGiveTheBytesOfOneAlone) {
  const ClassFile& cf = sample("thpt-11A.json");
  std::vector<Student> students(cf.students.begin(), cf.students.begin() + std::min<std::size_t>(4, cf.students.size()));
  Student beyond = students.front();
  beyond.secondary->homeroom_comment += " Ωμέγα жёлтый";
  students.push_back(beyond);
  constexpr int kThreads = 4;
  std::vector<std::vector<Bytes>> got(kThreads, std::vector<Bytes>(students.size()));
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      ++ready;
      while (ready.load() < kThreads) std::this_thread::yield();
      for (std::size_t i = 0; i < students.size(); ++i) {
        std::size_t k = (i + static_cast<std::size_t>(t)) % students.size();  // each thread in its own order
        auto r = render_record(cf.info, students[k]);
        if (r) got[static_cast<std::size_t>(t)][k] = std::move(*r);
      }
    });
  for (auto& th : threads) th.join();
  for (std::size_t k = 0; k < students.size(); ++k) {
    Bytes alone = render_or_throw(cf.info, students[k]);
    for (int t = 0; t < kThreads; ++t)
      EXPECT_TRUE(got[static_cast<std::size_t>(t)][k] == alone) << "student " << k << ", thread " << t;
  }
}

// Characters beyond the embedded alphabet (Greek, Cyrillic, symbols) get a program that holds them as
// well, so they extract back; an emoji the font lacks is drawn and extracted as a replacement ('?':
// Liberation Serif has no U+FFFD). Records of the alphabet alone all embed the same three programs.
TEST(Render, CharactersBeyondTheAlphabet) {
  test::TempDir dir;
  const ClassFile& cf = sample("thcs-8A.json");
  Student st = cf.students[0];
  const std::string extra = "Ωμέγα жёлтый 25°C ½ №5 ≤ 7";
  st.secondary->homeroom_comment = extra + " \xF0\x9F\x98\x80";
  Bytes pdf = render_or_throw(cf.info, st);
  EXPECT_TRUE(pdf == render_or_throw(cf.info, st)) << "two renders differ";
  std::string path = write_pdf(dir, "beyond.pdf", pdf);
  EXPECT_EQ(test::run("qpdf --check " + sh_quote(path)).status, 0);
  EXPECT_NE(collapse(pdftotext(path)).find(extra + " ?"), std::string::npos) << collapse(pdftotext(path));

  auto plain0 = font_names(write_pdf(dir, "plain0.pdf", render_or_throw(cf.info, cf.students[0])));
  auto plain1 = font_names(write_pdf(dir, "plain1.pdf", render_or_throw(cf.info, cf.students[1])));
  auto beyond = font_names(path);
  ASSERT_EQ(plain0.size(), 3u);
  ASSERT_EQ(beyond.size(), 3u);
  EXPECT_EQ(plain0, plain1) << "records of the alphabet alone embed the same programs";
  EXPECT_NE(beyond, plain0) << "the extra characters need another program";
}

namespace {

unsigned be16(const std::string& b, std::size_t at) {
  return (static_cast<unsigned>(static_cast<unsigned char>(b.at(at))) << 8) | static_cast<unsigned char>(b.at(at + 1));
}

// Advance widths in 1/1000 em by glyph id, from a TrueType program's head, hhea and hmtx tables.
std::vector<long> advance_widths(const std::string& ttf) {
  std::map<std::string, std::size_t> tables;
  for (unsigned i = 0, n = be16(ttf, 4); i < n; ++i) {
    std::size_t rec = 12 + 16 * static_cast<std::size_t>(i);
    tables[ttf.substr(rec, 4)] = (static_cast<std::size_t>(be16(ttf, rec + 8)) << 16) | be16(ttf, rec + 10);
  }
  unsigned upem = be16(ttf, tables.at("head") + 18), metrics = be16(ttf, tables.at("hhea") + 34);
  std::vector<long> w;
  for (unsigned g = 0; g < metrics; ++g) w.push_back(std::lround(be16(ttf, tables.at("hmtx") + 4 * g) * 1000.0 / upem));
  return w;  // glyphs from `metrics` on have the last advance
}

// Glyph id -> width of a CIDFont's /W ("first [w …]" and "first last w").
std::map<unsigned, long> w_entries(const json::value* w) {
  std::map<unsigned, long> out;
  if (!w || !w->is_array()) return out;
  const json::array& a = w->as_array();
  for (std::size_t i = 0; i + 1 < a.size();) {
    auto first = a[i].to_number<unsigned>();
    if (a[i + 1].is_array()) {
      for (const auto& x : a[i + 1].as_array()) out[first++] = std::lround(x.to_number<double>());
      i += 2;
    } else {
      for (unsigned g = first, last = a[i + 1].to_number<unsigned>(); g <= last; ++g) out[g] = std::lround(a.at(i + 2).to_number<double>());
      i += 3;
    }
  }
  return out;
}

// The glyph ids a ToUnicode CMap maps (bfchar and bfrange sources).
std::set<unsigned> to_unicode_sources(const std::string& cmap) {
  std::set<unsigned> out;
  std::istringstream in(cmap);
  std::string line;
  bool range = false, chr = false;
  std::regex hex("<([0-9A-Fa-f]+)>");
  while (std::getline(in, line)) {
    if (line.find("beginbf") != std::string::npos) { range = line.find("range") != std::string::npos; chr = !range; continue; }
    if (line.find("endbf") != std::string::npos) { range = chr = false; continue; }
    std::vector<unsigned> h;
    for (std::sregex_iterator it(line.begin(), line.end(), hex), end; it != end && h.size() < 2; ++it) h.push_back(std::stoul((*it)[1], nullptr, 16));
    if (chr && !h.empty()) out.insert(h[0]);
    if (range && h.size() == 2)
      for (unsigned g = h[0]; g <= h[1]; ++g) out.insert(g);
  }
  return out;
}

// Every embedded font's /W holds exactly the glyphs of its ToUnicode map, with the widths of the embedded
// program (PDF/A: widths consistent with the font program), and every glyph drawn on a page is in both.
void check_font_widths(const std::string& path) {
  auto o = qpdf_objects(path);
  std::map<std::string, std::pair<std::map<unsigned, long>, std::set<unsigned>>> fonts;  // Type0 ref -> /W, ToUnicode
  for (const auto& [k, v] : o.objs) {
    std::string ref = std::string(k).substr(4);
    const json::value* d = o.get(ref);
    if (str(o.key(d, "/Type")) != "/Font" || str(o.key(d, "/Subtype")) != "/Type0") continue;
    SCOPED_TRACE(str(o.key(d, "/BaseFont")));
    const json::value* desc = o.key(d, "/DescendantFonts");
    ASSERT_TRUE(desc && desc->is_array() && desc->as_array().size() == 1);
    const json::value* cid = o.get(std::string(desc->as_array()[0].as_string()));
    auto w = w_entries(o.key(cid, "/W"));
    auto mapped = to_unicode_sources(stream_data(path, ref_of(d, "/ToUnicode")));
    auto program = advance_widths(stream_data(path, ref_of(o.key(cid, "/FontDescriptor"), "/FontFile2")));
    ASSERT_FALSE(w.empty());
    ASSERT_FALSE(program.empty());
    std::set<unsigned> with_width;
    for (const auto& [gid, width] : w) {
      with_width.insert(gid);
      EXPECT_EQ(width, program[std::min<std::size_t>(gid, program.size() - 1)]) << "glyph " << gid;
    }
    EXPECT_EQ(with_width, mapped) << "/W and /ToUnicode cover different glyphs";
    fonts[ref] = {w, mapped};
  }
  EXPECT_EQ(fonts.size(), 3u);
  std::regex shown(R"(/(F\d+) [-0-9.]+ Tf [^<]*<([0-9A-F]*)> Tj)");
  std::size_t drawn = 0;
  for (const auto& [k, v] : o.objs) {
    const json::value* page = o.get(std::string(k).substr(4));
    if (str(o.key(page, "/Type")) != "/Page") continue;
    const json::value* res = o.key(o.key(page, "/Resources"), "/Font");
    std::string content = stream_data(path, ref_of(page, "/Contents"));
    for (std::sregex_iterator it(content.begin(), content.end(), shown), end; it != end; ++it) {
      auto font = fonts.find(ref_of(res, ("/" + (*it)[1].str()).c_str()));
      ASSERT_NE(font, fonts.end()) << (*it)[1];
      std::string gids = (*it)[2];
      for (std::size_t i = 0; i + 4 <= gids.size(); i += 4) {
        unsigned gid = std::stoul(gids.substr(i, 4), nullptr, 16);
        ++drawn;
        EXPECT_TRUE(font->second.first.count(gid)) << "drawn glyph " << gid << " has no width";
        EXPECT_TRUE(font->second.second.count(gid)) << "drawn glyph " << gid << " does not extract";
      }
    }
  }
  EXPECT_GT(drawn, 500u) << "the pages' text was not found";
}

}  // namespace

TEST(Render, WidthsMatchTheEmbeddedPrograms) {
  test::TempDir dir;
  for (const char* name : {"primary-3A.json", "thpt-11A.json"}) {
    SCOPED_TRACE(name);
    const ClassFile& cf = sample(name);
    check_font_widths(write_pdf(dir, "plain.pdf", render_or_throw(cf.info, cf.students[0])));
  }
  const ClassFile& cf = sample("thcs-8A.json");
  Student st = cf.students[0];
  st.secondary->homeroom_comment = "Ωμέγα жёлтый 25°C ½ №5 ≤ 7";
  SCOPED_TRACE("beyond the alphabet");
  check_font_widths(write_pdf(dir, "beyond.pdf", render_or_throw(cf.info, st)));
}

// A font file replaced on disk is loaded again rather than served from the process's cache.
TEST(Render, ReplacedFontFileIsLoadedAgain) {
  test::TempDir dir;
  const ClassFile& cf = sample("primary-3A.json");
  const Student& st = cf.students[0];
  const RenderOptions defaults;
  auto copy = [&](const std::string& from) {
    auto data = read_file(from);
    ASSERT_TRUE(data) << data.error().message;
    ASSERT_TRUE(write_file_atomic(dir.file("serif.ttf"), *data));
  };
  RenderOptions o;
  o.font_regular = dir.file("serif.ttf");
  copy(defaults.font_regular);
  auto a = render_record(cf.info, st, o);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_TRUE(*a == render_or_throw(cf.info, st)) << "the same font bytes at another path give the same file";

  copy(defaults.font_italic);
  auto b = render_record(cf.info, st, o);
  ASSERT_TRUE(b) << b.error().message;
  RenderOptions italic;
  italic.font_regular = defaults.font_italic;
  auto want = render_record(cf.info, st, italic);
  ASSERT_TRUE(want) << want.error().message;
  EXPECT_TRUE(*b == *want) << "the replaced file was not loaded again";
  EXPECT_FALSE(*a == *b);
}

// ---- Reference pictures ----------------------------------------------------------------------------

namespace {

struct Gray {
  int w = 0, h = 0;
  std::vector<std::uint8_t> px;
};

// Binary PGM (P5, maxval 255).
Gray read_pgm(const std::string& path) {
  std::ifstream exists(path);
  if (!exists.good()) throw std::runtime_error(path + " is missing: run scripts/update-reference-images.sh");
  std::string d = test::read_text(path);
  std::size_t i = 0;
  auto token = [&]() {
    for (;;) {
      while (i < d.size() && std::isspace(static_cast<unsigned char>(d[i]))) ++i;
      if (i < d.size() && d[i] == '#') {
        while (i < d.size() && d[i] != '\n') ++i;
        continue;
      }
      break;
    }
    std::size_t s = i;
    while (i < d.size() && !std::isspace(static_cast<unsigned char>(d[i]))) ++i;
    return d.substr(s, i - s);
  };
  if (token() != "P5") throw std::runtime_error(path + ": not a binary PGM");
  Gray g;
  g.w = std::stoi(token());
  g.h = std::stoi(token());
  if (std::stoi(token()) != 255) throw std::runtime_error(path + ": maxval is not 255");
  ++i;  // the single whitespace after maxval
  if (d.size() - i < static_cast<std::size_t>(g.w) * static_cast<std::size_t>(g.h)) throw std::runtime_error(path + ": short");
  g.px.assign(d.begin() + static_cast<std::ptrdiff_t>(i), d.begin() + static_cast<std::ptrdiff_t>(i) + g.w * g.h);
  return g;
}

void write_pgm(const std::string& path, const Gray& g) {
  std::string d = "P5\n" + std::to_string(g.w) + " " + std::to_string(g.h) + "\n255\n";
  d.append(g.px.begin(), g.px.end());
  test::write_text(path, d);
}

// Averages 4 x 4 blocks: small enough to commit, still sensitive to a moved line or a missing word.
Gray downscale(const Gray& g, int f = 4) {
  Gray o;
  o.w = g.w / f;
  o.h = g.h / f;
  o.px.resize(static_cast<std::size_t>(o.w) * static_cast<std::size_t>(o.h));
  for (int y = 0; y < o.h; ++y)
    for (int x = 0; x < o.w; ++x) {
      int sum = 0;
      for (int dy = 0; dy < f; ++dy)
        for (int dx = 0; dx < f; ++dx) sum += g.px[static_cast<std::size_t>((y * f + dy) * g.w + x * f + dx)];
      o.px[static_cast<std::size_t>(y * o.w + x)] = static_cast<std::uint8_t>((sum + f * f / 2) / (f * f));
    }
  return o;
}

}  // namespace


// ---- The official forms: every field, in the form's order -------------------------------------

namespace {

// The text of a record in reading order (pdftotext -layout: top to bottom, left to right on a line),
// page footers left out, whitespace collapsed.
std::string layout_text(const std::string& path) {
  auto r = test::run("pdftotext -layout " + sh_quote(path) + " -");
  if (r.status != 0) throw std::runtime_error("pdftotext: " + r.out);
  std::string kept;
  std::istringstream lines(r.out);
  for (std::string l; std::getline(lines, l);) {
    std::string c = collapse(l);
    if (c.rfind("Học bạ – ", 0) == 0 && c.find("Trang ") != std::string::npos) continue;  // the footer
    kept += c + "\n";
  }
  return collapse(kept);
}

// Each of `want` in `text`, in this order; the first one missing or out of place is named.
void expect_in_order(const std::string& text, const std::vector<std::string>& want) {
  std::size_t at = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    std::string w = collapse(want[i]);
    if (w.empty()) continue;
    std::size_t next = text.find(w, at);
    if (next == std::string::npos) {
      bool elsewhere = text.find(w) != std::string::npos;
      ADD_FAILURE() << "item " << i << " \"" << w << "\" " << (elsewhere ? "is before the one preceding it" : "is missing")
                    << "; the text after the previous item: \"" << text.substr(at, 300) << "\"";
      return;
    }
    at = next + w.size();
  }
}

std::string dmy_text(const std::string& iso) { return iso.substr(8, 2) + "/" + iso.substr(5, 2) + "/" + iso.substr(0, 4); }

std::string comma(double v, bool whole_as_integer) {
  char b[32];
  if (whole_as_integer && v == static_cast<long long>(v)) return std::to_string(static_cast<long long>(v));
  std::snprintf(b, sizeof b, "%.1f", v);
  std::string s = b;
  s[s.find('.')] = ',';
  return s;
}

// The cover, the student page and the learning history (both levels).
std::vector<std::string> first_pages(const ClassInfo& k, const Student& st) {
  const bool primary = k.level == Level::primary;
  std::vector<std::string> w = {"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "HỌC BẠ",
                                primary ? "TIỂU HỌC" : k.level == Level::lower_secondary ? "TRUNG HỌC CƠ SỞ" : "TRUNG HỌC PHỔ THÔNG",
                                "Họ và tên học sinh: " + st.full_name};
  if (!primary) w.push_back("Số sổ đăng bộ PCGD: " + st.registration_number);
  w.insert(w.end(), {"Trường: " + k.school_name, "Xã (Phường, Thị trấn): " + k.commune,
                     "Huyện (Quận, Thị xã, Thành phố): " + k.district, "Tỉnh (Thành phố): " + k.province,
                     // the student page
                     "Họ và tên: " + st.full_name, "Giới tính: " + st.sex, "Ngày sinh: " + dmy_text(st.date_of_birth),
                     "Mã định danh: " + st.personal_id, "Dân tộc: " + st.ethnicity, "Quốc tịch: " + st.nationality,
                     "Nơi sinh: " + st.place_of_birth});
  w.push_back(primary ? "Quê quán: " + st.home_town : "Đối tượng: " + st.policy_status);
  w.push_back("Nơi ở hiện nay: " + st.residence);
  auto person = [&](const char* label, const std::optional<Person>& p) {
    w.push_back(std::string(label) + ": " + (p ? p->name : ""));
    if (!primary) w.push_back("Nghề nghiệp: " + (p ? p->occupation : ""));
  };
  person("Họ và tên cha", st.father);
  person("Họ và tên mẹ", st.mother);
  person("Người giám hộ", st.guardian);
  w.push_back(st.opened_on.empty() ? "ngày …… tháng …… năm ……" : "ngày " + st.opened_on.substr(8, 2));
  w.insert(w.end(), {"HIỆU TRƯỞNG", "(Ký, ghi rõ họ tên và đóng dấu)", k.principal.name,
                     // the learning history
                     "QUÁ TRÌNH HỌC TẬP", "Năm học", "Lớp", "Tên trường", "Số đăng bộ"});
  if (!primary) w.push_back("Xác nhận của Hiệu trưởng");
  // The rows' years in order (their other cells wrap over several lines: see expect_history).
  for (const HistoryEntry& e : st.history) w.push_back(e.school_year);
  if (st.history.empty()) w.push_back(k.school_year);
  return w;
}

// Every cell of the learning history on its page (between its title and the year's page).
void expect_history(const std::string& text, const ClassInfo& k, const Student& st) {
  std::size_t from = text.find("QUÁ TRÌNH HỌC TẬP"), to = text.find("Họ và tên: " + st.full_name + " Lớp:");
  ASSERT_NE(from, std::string::npos);
  ASSERT_NE(to, std::string::npos);
  std::string page = text.substr(from, to - from);
  std::vector<HistoryEntry> rows = st.history;
  if (rows.empty()) rows.push_back({k.school_year, k.class_name, k.school_name, "", "", false});
  for (const HistoryEntry& e : rows) {
    for (const std::string& cell : {e.class_name, e.registration_number}) EXPECT_NE(page.find(cell), std::string::npos) << cell;
    // A long school name wraps in its cell: each of its words.
    std::istringstream words(e.school_name);
    for (std::string word; words >> word;) EXPECT_NE(page.find(word), std::string::npos) << word;
    if (!e.entry_date.empty())
      EXPECT_NE(page.find(dmy_text(e.entry_date)), std::string::npos) << e.entry_date;
  }
  bool transferred = std::any_of(rows.begin(), rows.end(), [](const HistoryEntry& e) { return e.transferred; });
  EXPECT_EQ(page.find("(chuyển đến)") != std::string::npos, transferred);
  if (k.level != Level::primary) EXPECT_NE(page.find(k.principal.name), std::string::npos) << "this year's confirmation";
}

}  // namespace

TEST(Forms, PrimaryRecordHasEveryFieldInTheFormsOrder) {
  test::TempDir dir;
  const ClassFile& cf = sample("primary-4B-v2.json");
  ASSERT_TRUE(cf.errors.empty());
  for (const Student& st : cf.students) {
    SCOPED_TRACE(st.full_name);
    const ClassInfo& k = cf.info;
    const PrimaryResult& r = *st.primary;
    std::string text = layout_text(write_pdf(dir, st.personal_id + ".pdf", render_or_throw(k, st)));
    std::vector<std::string> w = first_pages(k, st);
    auto opt = [](const auto& v, const char* unit) -> std::string {
      if (!v) return "";
      if constexpr (std::is_same_v<std::decay_t<decltype(*v)>, double>) return comma(*v, true) + unit;
      else return std::to_string(*v) + unit;
    };
    w.insert(w.end(), {"Họ và tên: " + st.full_name, "Lớp: " + k.class_name, "Năm học: " + k.school_year,
                       "Chiều cao: " + opt(r.height_cm, " cm"), "Cân nặng: " + opt(r.weight_kg, " kg"),
                       "Số ngày nghỉ có phép: " + opt(r.absences_with_leave, ""),
                       "Số ngày nghỉ không phép: " + opt(r.absences_without_leave, ""),
                       "1. Các môn học và hoạt động giáo dục", "Mức đạt", "Điểm", "Nhận xét", "KTĐK"});
    for (const PrimarySubject& s : r.subjects) {
      // Circular 27: the test score is a whole number.
      std::string row = s.subject + " " + s.level + (s.test_score ? " " + comma(*s.test_score, true) : "");
      w.insert(w.end(), {row, s.comment});
    }
    auto ratings = [&](const char* heading, const char* column, const std::vector<Rating>& v) {
      w.insert(w.end(), {heading, column, "Nhận xét"});
      for (const Rating& x : v) w.insert(w.end(), {x.name + " " + x.level, x.comment});
    };
    ratings("2. Những phẩm chất chủ yếu", "Phẩm chất chủ yếu", r.qualities);
    w.push_back("3. Những năng lực cốt lõi");
    ratings("3.1. Những năng lực chung", "Năng lực chung", r.general_competencies);
    ratings("3.2. Những năng lực đặc thù", "Năng lực đặc thù", r.specific_competencies);
    w.insert(w.end(), {"4. Đánh giá kết quả giáo dục", r.overall, "5. Khen thưởng"});
    w.insert(w.end(), r.awards.begin(), r.awards.end());
    w.insert(w.end(), {"6. Hoàn thành chương trình lớp học",
                       (r.completed_grade ? "Hoàn thành chương trình lớp " : "Chưa hoàn thành chương trình lớp ") + std::to_string(k.grade),
                       "Hà Nội, ngày 31 tháng 5 năm 2025",
                       // Circular 27: the principal's confirmation on the left, the homeroom teacher on the right
                       "XÁC NHẬN CỦA HIỆU TRƯỞNG GIÁO VIÊN CHỦ NHIỆM",
                       "(Ký, ghi rõ họ tên và đóng dấu) (Ký và ghi rõ họ tên)",
                       k.principal.name + " " + k.homeroom_teacher.name});
    expect_in_order(text, w);
    expect_history(text, k, st);
    // The form has no homeroom-comment section (FormOptions::primary_homeroom_comment prints one).
    if (!r.homeroom_comment.empty()) EXPECT_EQ(text.find(collapse(r.homeroom_comment)), std::string::npos);
    EXPECT_EQ(text.find("Nghề nghiệp"), std::string::npos) << "Circular 27's student page has no occupations";
  }
}

// Lower (THCS, grade 9) and upper secondary (THPT, grade 12): one template, each level's words.
TEST(Forms, SecondaryRecordHasEveryFieldInTheFormsOrder) {
  test::TempDir dir;
  for (const char* name : {"thcs-9A-v2.json", "thpt-12A-v2.json"}) {
  SCOPED_TRACE(name);
  const ClassFile& cf = sample(name);
  ASSERT_TRUE(cf.errors.empty());
  ASSERT_TRUE(cf.warnings.empty());
  const std::string level_words = cf.info.level == Level::lower_secondary ? "trung học cơ sở" : "trung học phổ thông";
  for (const Student& st : cf.students) {
    SCOPED_TRACE(st.full_name);
    const ClassInfo& k = cf.info;
    const SecondaryResult& r = *st.secondary;
    std::string text = layout_text(write_pdf(dir, st.personal_id + ".pdf", render_or_throw(k, st)));
    std::vector<std::string> w = first_pages(k, st);
    w.insert(w.end(), {"Họ và tên: " + st.full_name, "Lớp: " + k.class_name, "Năm học: " + k.school_year,
                       "Trường: " + k.school_name, "Môn học, hoạt động giáo dục", "HK I HK II CN"});
    for (const SecondarySubject& s : r.subjects) {
      std::string row = s.subject + " ";
      if (s.scored) {
        row += comma(*s.hk1, false) + " " + comma(*s.hk2, false) + " " + comma(*s.year, false);
        if (s.reassessed) row += " " + comma(*s.reassessed, false);
      } else {
        row += s.hk1_text + " " + s.hk2_text + " " + s.year_text;
        if (!s.reassessed_text.empty()) row += " " + s.reassessed_text;
      }
      w.push_back(row);
    }
    const bool corrected = r.corrections.has_value();
    w.insert(w.end(), {"Trong trang này có sửa chữa ở: " + (corrected ? std::to_string(r.corrections->count) : std::string()) +
                           " chỗ, thuộc các môn:"});
    if (corrected)
      for (const std::string& s : r.corrections->subjects) w.push_back(s);
    w.insert(w.end(), {"Xác nhận của giáo viên chủ nhiệm:", "Xác nhận của Hiệu trưởng:",
                       "Kết quả Học kì I Học kì II Cả năm Sau đánh giá lại (nếu có)",
                       "Kết quả học tập " + r.learning.hk1 + " " + r.learning.hk2 + " " + r.learning.year +
                           (r.learning.reassessed.empty() ? "" : " " + r.learning.reassessed),
                       "Kết quả rèn luyện " + r.conduct.hk1 + " " + r.conduct.hk2 + " " + r.conduct.year +
                           (r.conduct.reassessed.empty() ? "" : " " + r.conduct.reassessed),
                       "Tổng số buổi nghỉ học cả năm: " + std::to_string(r.absences), "Kết quả cuối năm: " + r.outcome,
                       "Hoàn thành chương trình " + level_words + ": " +
                           std::string(!r.completed_level ? "" : *r.completed_level ? "Hoàn thành" : "Chưa hoàn thành"),
                       "Chứng chỉ (loại):"});
    for (const Certificate& c : r.certificates) w.push_back(c.grade.empty() ? c.name : c.name + " (loại " + c.grade + ")");
    w.push_back("Kết quả tham gia các cuộc thi (nếu có):");
    w.insert(w.end(), r.competitions.begin(), r.competitions.end());
    w.push_back("Khen thưởng:");
    w.insert(w.end(), r.awards.begin(), r.awards.end());
    w.insert(w.end(), {"NHẬN XÉT CỦA GIÁO VIÊN CHỦ NHIỆM", r.homeroom_comment, "Hà Nội, ngày 31 tháng 5 năm 2025",
                       "GIÁO VIÊN CHỦ NHIỆM HIỆU TRƯỞNG", k.homeroom_teacher.name + " " + k.principal.name});
    expect_in_order(text, w);
    expect_history(text, k, st);
    if (corrected) EXPECT_NE(text.find("Xác nhận của giáo viên chủ nhiệm: " + k.homeroom_teacher.name), std::string::npos);
  }
  }
}

// A v1 file has none of v2's fields: the form shows them blank, as on paper, and invents nothing.
TEST(Forms, V1RecordLeavesTheV2FieldsBlank) {
  test::TempDir dir;
  const ClassFile& p = sample("primary-3A.json");
  std::string text = layout_text(write_pdf(dir, "p.pdf", render_or_throw(p.info, p.students[0])));
  for (const char* s : {"Xã (Phường, Thị trấn): Huyện", "Quê quán: Nơi ở hiện nay:", "Chiều cao: Cân nặng:",
                        "Số ngày nghỉ có phép: Số ngày nghỉ không phép:", "ngày …… tháng …… năm ……"})
    EXPECT_NE(text.find(s), std::string::npos) << s;
  const ClassFile& s = sample("thpt-11A.json");
  text = layout_text(write_pdf(dir, "s.pdf", render_or_throw(s.info, s.students[0])));
  for (const char* x : {"Số sổ đăng bộ PCGD: Trường:", "Trong trang này có sửa chữa ở: chỗ, thuộc các môn: Xác nhận",
                        "Chứng chỉ (loại): Kết quả tham gia các cuộc thi (nếu có): Khen thưởng:"})
    EXPECT_NE(text.find(x), std::string::npos) << x;
  // The history has this year's row (from the class) and blank rows for the level's other years.
  EXPECT_NE(text.find(s.info.school_year + " " + s.info.class_name + " " + s.info.school_name), std::string::npos);
}

TEST(Render, ReferenceImages) {
  bool update = std::getenv("HOCBA_UPDATE_REFERENCE") && *std::getenv("HOCBA_UPDATE_REFERENCE") == '1';
  test::TempDir dir;
  std::string docs = std::string(HOCBA_SOURCE_DIR) + "/docs";
  struct Ref {
    const char* kind;
    const char* sample;
  };
  for (Ref ref : {Ref{"primary", "primary-4B-v2.json"}, Ref{"secondary", "thpt-12A-v2.json"}}) {
    SCOPED_TRACE(ref.kind);
    const ClassFile& cf = sample(ref.sample);
    std::string pdf = write_pdf(dir, std::string(ref.kind) + ".pdf", render_or_throw(cf.info, cf.students[0]));
    int pages = page_count(pdf);
    ASSERT_GE(pages, 1);
    if (update) test::run("rm -f " + docs + "/render-" + ref.kind + "-p*.png " + docs + "/render-" + ref.kind + "-p*.pgm");
    for (int p = 1; p <= pages; ++p) {
      std::string base = "render-" + std::string(ref.kind) + "-p" + std::to_string(p);
      std::string out = dir.file(base);
      auto r = test::run("pdftoppm -r 80 -gray -f " + std::to_string(p) + " -l " + std::to_string(p) + " -singlefile " +
                         sh_quote(pdf) + " " + sh_quote(out));
      ASSERT_EQ(r.status, 0) << r.out;
      Gray now = downscale(read_pgm(out + ".pgm"));
      std::string ref_pgm = docs + "/" + base + ".pgm";
      if (update) {
        write_pgm(ref_pgm, now);
        auto png = test::run("pdftoppm -r 80 -png -f " + std::to_string(p) + " -l " + std::to_string(p) + " -singlefile " +
                             sh_quote(pdf) + " " + sh_quote(docs + "/" + base));
        ASSERT_EQ(png.status, 0) << png.out;
        continue;
      }
      Gray want = read_pgm(ref_pgm);
      ASSERT_EQ(now.w, want.w);
      ASSERT_EQ(now.h, want.h);
      double diff = 0;
      for (std::size_t i = 0; i < now.px.size(); ++i) diff += std::abs(int(now.px[i]) - int(want.px[i]));
      diff /= static_cast<double>(now.px.size());
      EXPECT_LT(diff, 1.0) << base << ": mean absolute difference " << diff
                           << " (of 255) from the reference; if the change is intended, run scripts/update-reference-images.sh";
    }
    if (!update) {
      std::ifstream extra(docs + "/render-" + std::string(ref.kind) + "-p" + std::to_string(pages + 1) + ".pgm");
      EXPECT_FALSE(extra.good()) << "the reference has more pages than the rendering (" << pages << ")";
    }
  }
}

// ---- hocba render --------------------------------------------------------------------------------------

TEST(RenderCli, RendersAClassAndMatchesTheLibrary) {
  test::TempDir dir;
  std::string in = std::string(HOCBA_TEST_DATA) + "/samples/primary-5A.json";
  auto r = test::run(std::string(HOCBA_CLI) + " render --in " + sh_quote(in) + " --out " + sh_quote(dir.file("out")));
  ASSERT_EQ(r.status, 0) << r.out;
  const ClassFile& cf = sample("primary-5A.json");
  EXPECT_NE(r.out.find("rendered " + std::to_string(cf.students.size()) + ", skipped 0"), std::string::npos) << r.out;
  for (const auto& st : cf.students) {
    auto file = read_file(dir.file("out/" + st.personal_id + ".pdf"));
    ASSERT_TRUE(file) << st.personal_id;
    if (&st == &cf.students[0]) {
      EXPECT_TRUE(*file == render_or_throw(cf.info, st)) << "CLI and library output differ";
    }
  }
  EXPECT_EQ(test::run("ls " + sh_quote(dir.file("out")) + " | wc -l").out, std::to_string(cf.students.size()) + "\n");
}

TEST(RenderCli, OneStudent) {
  test::TempDir dir;
  std::string in = std::string(HOCBA_TEST_DATA) + "/samples/thcs-8A.json";
  const ClassFile& cf = sample("thcs-8A.json");
  std::string id = cf.students[3].personal_id;
  auto r = test::run(std::string(HOCBA_CLI) + " render --in " + sh_quote(in) + " --out " + sh_quote(dir.path()) + " --student " + id);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("rendered 1, skipped 0"), std::string::npos) << r.out;
  EXPECT_EQ(test::run("ls " + sh_quote(dir.path())).out, id + ".pdf\n");
  r = test::run(std::string(HOCBA_CLI) + " render --in " + sh_quote(in) + " --out " + sh_quote(dir.path()) + " --student 000000000000");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("no student with personal ID 000000000000"), std::string::npos) << r.out;
}

TEST(RenderCli, ErrorsStopTheRenderUnlessValidOnly) {
  test::TempDir dir;
  // Two broken students: a score above 10, and no personal ID.
  auto v = json::parse(test::read_text(std::string(HOCBA_TEST_DATA) + "/samples/thpt-11A.json"));
  auto& students = v.as_object()["students"].as_array();
  students[2].as_object()["secondary"].as_object()["subjects"].as_array()[0].as_object()["hk2"] = 11.5;
  students[5].as_object().erase("personal_id");
  std::string in = dir.file("bad.json");
  test::write_text(in, json::serialize(v));
  std::string out = dir.file("out");

  auto r = test::run(std::string(HOCBA_CLI) + " render --in " + sh_quote(in) + " --out " + sh_quote(out));
  EXPECT_EQ(r.status, 3) << r.out;
  EXPECT_NE(r.out.find("students[2].secondary.subjects[0].hk2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("students[5].personal_id"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nothing rendered"), std::string::npos) << r.out;
  EXPECT_NE(test::run("ls " + sh_quote(out)).status, 0) << "nothing may be written";

  r = test::run(std::string(HOCBA_CLI) + " render --valid-only --in " + sh_quote(in) + " --out " + sh_quote(out));
  EXPECT_EQ(r.status, 0) << r.out;
  std::size_t n = students.size() - 2;
  EXPECT_NE(r.out.find("rendered " + std::to_string(n) + ", skipped 2"), std::string::npos) << r.out;
  EXPECT_EQ(test::run("ls " + sh_quote(out) + " | wc -l").out, std::to_string(n) + "\n");

  // Naming a student with errors renders nothing.
  std::string bad_id(students[2].as_object()["personal_id"].as_string());
  r = test::run(std::string(HOCBA_CLI) + " render --valid-only --in " + sh_quote(in) + " --out " + sh_quote(dir.file("one")) +
                " --student " + bad_id);
  EXPECT_EQ(r.status, 3) << r.out;

  r = test::run(std::string(HOCBA_CLI) + " render --in " + sh_quote(in));
  EXPECT_EQ(r.status, 2) << r.out;
}
