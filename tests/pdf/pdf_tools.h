// Test kit for rendered PDFs (tests/pdf/): running poppler's and qpdf's tools on a written file.
#pragma once
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>

#include "hocba/common/fileio.h"
#include "hocba/pdf/record.h"
#include "test_env.h"

namespace hocba::test::pdf {

inline std::string sh_quote(const std::string& s) {
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

// Whitespace runs (line breaks included) collapsed to one space, trimmed.
inline std::string collapse(const std::string& s) {
  std::string o;
  bool sp = false;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f') {
      sp = !o.empty();
    } else {
      if (sp) o.push_back(' ');
      sp = false;
      o.push_back(c);
    }
  }
  return o;
}

// A sample class file of tests/data/samples, parsed once per process.
inline const hocba::pdf::ClassFile& sample(const std::string& name) {
  static std::map<std::string, hocba::pdf::ClassFile> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    auto r = hocba::pdf::parse_class(test::read_text(std::string(HOCBA_TEST_DATA) + "/samples/" + name));
    if (!r) throw std::runtime_error(name + ": " + r.error().message);
    it = cache.emplace(name, std::move(*r)).first;
  }
  return it->second;
}

inline std::string write_pdf(const TempDir& dir, const std::string& name, const Bytes& pdf) {
  std::string path = dir.file(name);
  if (auto st = write_file_atomic(path, pdf); !st) throw std::runtime_error(st.error().message);
  return path;
}

inline std::string pdftotext(const std::string& path) {
  auto r = run("pdftotext " + sh_quote(path) + " -");
  EXPECT_EQ(r.status, 0) << r.out;
  return r.out;
}

inline int page_count(const std::string& path) {
  auto r = run("pdfinfo " + sh_quote(path));
  auto at = r.out.find("Pages:");
  return at == std::string::npos ? -1 : std::atoi(r.out.c_str() + at + 6);
}

// The n-th (1-based) attached file's bytes, through pdfdetach.
inline std::string detached(const std::string& path, int n = 1) {
  std::string saved = path + ".attachment-" + std::to_string(n);
  auto r = run("pdfdetach -save " + std::to_string(n) + " -o " + sh_quote(saved) + " " + sh_quote(path));
  EXPECT_EQ(r.status, 0) << r.out;
  return r.status == 0 ? read_text(saved) : std::string();
}

}  // namespace hocba::test::pdf
