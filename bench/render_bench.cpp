// hocba-render-bench: how fast records render, and that memory does not grow with the number of
// students. A whole school is generated in memory (a simplified, self-contained port of the sample
// generator: classes of 45 in the import format hocba.class/v1, parsed with pdf::parse_class like a
// real import), one class at a time, and every record is rendered with pdf::render_record.
//
//   hocba-render-bench [--students N] [--level primary|lower_secondary|upper_secondary] [--seed S]
//                      [--out DIR] [--json]
//
// Prints records/s and peak RSS (getrusage ru_maxrss) at 200, 1000 and 2000 records (and at the end):
// the rate over the wall time spent in render_record, and over the CPU time the rendering thread spent
// in it (CLOCK_THREAD_CPUTIME_ID), which a machine shared with other work disturbs far less.
// --out DIR also writes the PDFs (<personal_id>.pdf); by default they are only rendered.
#include <sys/resource.h>

#include <boost/json.hpp>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "hocba/common/fileio.h"
#include "hocba/pdf/record.h"
#include "hocba/pdf/render.h"

namespace {

using namespace hocba;
namespace json = boost::json;

const std::vector<std::string> kFamily = {"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
                                          "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trịnh", "Lương", "Tạ"};
const std::vector<std::string> kMiddleF = {"Thị", "Ngọc", "Thanh", "Thu", "Khánh", "Bảo", "Minh", "Phương", "Hoài", "Diệu"};
const std::vector<std::string> kMiddleM = {"Văn", "Đức", "Hữu", "Minh", "Quang", "Gia", "Bảo", "Thành", "Trọng", "Tuấn"};
const std::vector<std::string> kGivenF = {"Anh", "Ánh", "Châu", "Giang", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh",
                                          "Mai", "My", "Ngân", "Nhi", "Nhung", "Quỳnh", "Thảo", "Trang", "Tuyết", "Yến"};
const std::vector<std::string> kGivenM = {"An", "Bảo", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Huy", "Khoa", "Khôi",
                                          "Long", "Nam", "Nghĩa", "Phúc", "Quân", "Sơn", "Tâm", "Thắng", "Trung", "Việt"};
const std::vector<std::string> kPlaces = {"Thành phố Hà Nội", "Tỉnh Bắc Ninh", "Tỉnh Nghệ An", "Thành phố Hồ Chí Minh",
                                          "Tỉnh Đắk Lắk", "Tỉnh Lào Cai"};
const std::vector<std::string> kJobs = {"Công nhân", "Nông dân", "Giáo viên", "Kinh doanh", "Kỹ sư",
                                        "Bác sĩ", "Nội trợ", "Lao động tự do", "Công chức", "Bộ đội"};
const std::vector<std::string> kStreets = {"Số 12 ngõ 34 phố Hoàng Hoa Thám", "Thôn Hồng Thái", "Xóm 3, xã Ngũ Hiệp",
                                           "Tổ 7 phường Quảng An", "Khu tập thể Thành Công, nhà C2"};
const std::vector<std::string> kGood = {"Em chăm chỉ, tích cực phát biểu xây dựng bài.",
                                        "Đọc to, rõ ràng; viết đúng chính tả, trình bày sạch đẹp.",
                                        "Nắm vững kiến thức, vận dụng tốt vào giải toán có lời văn.",
                                        "Hoàn thành tốt các nhiệm vụ học tập.",
                                        "Mạnh dạn, tự tin khi giao tiếp; biết hợp tác với bạn."};
const std::vector<std::string> kMid = {"Cần rèn thêm kĩ năng tính nhẩm.", "Chữ viết cần cẩn thận hơn.",
                                       "Cần tập trung hơn trong giờ học.",
                                       "Hoàn thành các nội dung học tập, cần mạnh dạn phát biểu hơn."};
const std::vector<std::string> kPrimarySubjects = {"Tiếng Việt", "Toán", "Ngoại ngữ 1 (Tiếng Anh)", "Đạo đức",
                                                   "Tự nhiên và Xã hội", "Tin học và Công nghệ", "Giáo dục thể chất",
                                                   "Nghệ thuật (Âm nhạc)", "Nghệ thuật (Mĩ thuật)", "Hoạt động trải nghiệm"};
const std::vector<std::string> kUpperScored = {"Ngữ văn", "Toán", "Ngoại ngữ 1 (Tiếng Anh)", "Lịch sử",
                                               "Giáo dục quốc phòng và an ninh", "Vật lí", "Hóa học", "Sinh học", "Tin học"};
const std::vector<std::string> kLowerScored = {"Ngữ văn", "Toán", "Ngoại ngữ 1 (Tiếng Anh)", "Giáo dục công dân",
                                               "Lịch sử và Địa lí", "Khoa học tự nhiên", "Công nghệ", "Tin học"};
const std::vector<std::string> kUpperPass = {"Giáo dục thể chất", "Hoạt động trải nghiệm, hướng nghiệp",
                                             "Nội dung giáo dục của địa phương"};
const std::vector<std::string> kLowerPass = {"Giáo dục thể chất", "Nghệ thuật (Âm nhạc)", "Nghệ thuật (Mĩ thuật)",
                                             "Hoạt động trải nghiệm, hướng nghiệp", "Nội dung giáo dục của địa phương"};

class Gen {
 public:
  explicit Gen(unsigned seed) : rng_(seed) {}
  double uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng_); }
  int integer(int a, int b) { return std::uniform_int_distribution<int>(a, b)(rng_); }
  const std::string& pick(const std::vector<std::string>& v) { return v[static_cast<std::size_t>(integer(0, static_cast<int>(v.size()) - 1))]; }
  std::string name(bool female) {
    return pick(kFamily) + " " + pick(female ? kMiddleF : kMiddleM) + " " + pick(female ? kGivenF : kGivenM);
  }
  std::string comment(double q) { return pick(q > 0.66 ? kGood : kMid); }

 private:
  std::mt19937 rng_;  // the standard fixes mt19937's sequence: the same seed, the same school
};

double round1(double v) { return static_cast<double>(static_cast<long>(v * 10 + 0.5 + 1e-9)) / 10; }

json::object primary_record(Gen& g, double q) {
  json::array subjects;
  for (const auto& s : kPrimarySubjects) {
    double v = std::min(1.0, std::max(0.0, q + g.uniform(-0.25, 0.25)));
    json::object row{{"subject", s}, {"level", v > 0.6 ? "T" : "H"}, {"comment", g.comment(v)}};
    if (s == "Tiếng Việt" || s == "Toán" || s == "Ngoại ngữ 1 (Tiếng Anh)" || s == "Tin học và Công nghệ")
      row["test_score"] = std::max(5, std::min(10, static_cast<int>(v * 10 + 0.5)));
    subjects.push_back(row);
  }
  auto rated = [&](std::initializer_list<const char*> names) {
    json::array a;
    for (const char* n : names) a.push_back(json::object{{"name", n}, {"level", q + g.uniform(-0.2, 0.2) > 0.55 ? "T" : "Đ"}});
    return a;
  };
  return {{"subjects", subjects},
          {"qualities", rated({"Yêu nước", "Nhân ái", "Chăm chỉ", "Trung thực", "Trách nhiệm"})},
          {"competencies",
           json::object{{"general", rated({"Tự chủ và tự học", "Giao tiếp và hợp tác", "Giải quyết vấn đề và sáng tạo"})},
                        {"specific", rated({"Ngôn ngữ", "Tính toán", "Khoa học", "Công nghệ", "Tin học", "Thẩm mĩ", "Thể chất"})}}},
          {"overall", q > 0.6 ? "Hoàn thành tốt" : "Hoàn thành"},
          {"awards", json::array{}},
          {"completed_grade", true},
          {"homeroom_comment", g.comment(q)}};
}

json::object secondary_record(Gen& g, bool upper, double q) {
  json::array subjects;
  std::vector<double> hk1s, hk2s, years;
  for (const auto& s : upper ? kUpperScored : kLowerScored) {
    double hk1 = round1(std::min(10.0, std::max(0.0, q * 10 + g.uniform(-2.0, 1.5))));
    double hk2 = round1(std::min(10.0, std::max(0.0, q * 10 + g.uniform(-1.8, 1.8))));
    double year = round1((hk1 + 2 * hk2) / 3);
    hk1s.push_back(hk1);
    hk2s.push_back(hk2);
    years.push_back(year);
    subjects.push_back(json::object{{"subject", s}, {"kind", "scored"}, {"hk1", hk1}, {"hk2", hk2}, {"year", year}, {"comment", g.comment(q)}});
  }
  for (const auto& s : upper ? kUpperPass : kLowerPass)
    subjects.push_back(json::object{{"subject", s}, {"kind", "pass_fail"}, {"hk1", "Đ"}, {"hk2", "Đ"}, {"year", "Đ"}, {"comment", g.comment(q)}});
  // Circular 22, Art. 9 (all pass/fail subjects are Đ here).
  auto learning = [](const std::vector<double>& sc) {
    double mn = 10;
    int ge8 = 0, ge65 = 0, ge5 = 0;
    for (double x : sc) {
      mn = std::min(mn, x);
      ge8 += x >= 8.0;
      ge65 += x >= 6.5;
      ge5 += x >= 5.0;
    }
    if (mn >= 6.5 && ge8 >= 6) return "Tốt";
    if (mn >= 5.0 && ge65 >= 6) return "Khá";
    if (ge5 >= 6 && mn >= 3.5) return "Đạt";
    return "Chưa đạt";
  };
  std::string year_learning = learning(years);
  std::string conduct = q > 0.55 ? "Tốt" : q > 0.3 ? "Khá" : "Đạt";
  return {{"subjects", subjects},
          {"learning", json::object{{"hk1", learning(hk1s)}, {"hk2", learning(hk2s)}, {"year", year_learning}}},
          {"conduct", json::object{{"hk1", conduct}, {"hk2", conduct}, {"year", conduct}}},
          {"absences", g.integer(0, 6)},
          {"outcome", year_learning == "Chưa đạt" ? "Kiểm tra lại" : "Lên lớp"},
          {"awards", year_learning == "Tốt" && conduct == "Tốt" ? json::array{"Học sinh Giỏi"} : json::array{}},
          {"homeroom_comment", g.comment(q)}};
}

// One class of the school in the import format.
std::string make_class(Gen& g, pdf::Level level, int grade, int index, int n) {
  const int first_year = 2024;
  static const char* kLetters = "ABCDEFGHIKLMNOPQRSTUVXY";
  int per_grade = 8;
  std::string name = std::to_string(grade) + kLetters[index % per_grade] + (index / per_grade ? std::to_string(index / per_grade) : "");
  json::array students;
  for (int i = 0; i < n; ++i) {
    bool female = g.integer(0, 1) == 1;
    int by = first_year - grade - 5;
    double q = std::min(1.0, std::max(0.05, g.uniform(0.3, 1.0)));
    char id[16];
    std::snprintf(id, sizeof id, "0%02d%c%02d%06d", g.integer(1, 96), female ? '3' : '2', by % 100, g.integer(0, 999999));
    char dob[16];
    std::snprintf(dob, sizeof dob, "%04d-%02d-%02d", by, g.integer(1, 12), g.integer(1, 28));
    json::object st{{"personal_id", id},
                    {"full_name", g.name(female)},
                    {"sex", female ? "Nữ" : "Nam"},
                    {"date_of_birth", dob},
                    {"place_of_birth", g.pick(kPlaces)},
                    {"ethnicity", "Kinh"},
                    {"nationality", "Việt Nam"},
                    {"residence", g.pick(kStreets)},
                    {"father", json::object{{"name", g.name(false)}, {"occupation", g.pick(kJobs)}}},
                    {"mother", json::object{{"name", g.name(true)}, {"occupation", g.pick(kJobs)}}}};
    if (level == pdf::Level::primary) st["primary"] = primary_record(g, q);
    else st["secondary"] = secondary_record(g, level == pdf::Level::upper_secondary, q);
    students.push_back(st);
  }
  json::object cls{{"format", "hocba.class/v1"},
                   {"school", json::object{{"name", "Trường Thử Nghiệm Hiệu Năng"},
                                           {"code", "01099901"},
                                           {"district", "Quận Tây Hồ"},
                                           {"province", "Thành phố Hà Nội"},
                                           {"principal", json::object{{"name", "Nguyễn Anh Tuấn"}, {"username", "hieutruong"}}}}},
                   {"school_year", "2024-2025"},
                   {"level", pdf::level_name(level)},
                   {"class", json::object{{"name", name},
                                          {"grade", grade},
                                          {"homeroom_teacher", json::object{{"name", g.name(g.integer(0, 1) == 1)},
                                                                            {"username", "gvcn." + name}}}}},
                   {"students", students}};
  return json::serialize(cls);
}

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

}  // namespace

int main(int argc, char** argv) {
  int total = 2000;
  unsigned seed = 1;
  std::string out_dir, level_s = "upper_secondary";
  bool as_json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--students") total = std::atoi(val().c_str());
    else if (a == "--seed") seed = static_cast<unsigned>(std::atoi(val().c_str()));
    else if (a == "--out") out_dir = val();
    else if (a == "--level") level_s = val();
    else if (a == "--json") as_json = true;
    else {
      std::fprintf(stderr,
                   "usage: hocba-render-bench [--students N] [--level primary|lower_secondary|upper_secondary] [--seed S] "
                   "[--out DIR] [--json]\n");
      return 2;
    }
  }
  pdf::Level level = level_s == "primary"           ? pdf::Level::primary
                     : level_s == "lower_secondary" ? pdf::Level::lower_secondary
                                                    : pdf::Level::upper_secondary;
  int first_grade = level == pdf::Level::primary ? 1 : level == pdf::Level::lower_secondary ? 6 : 10;
  int grades = level == pdf::Level::primary ? 5 : level == pdf::Level::lower_secondary ? 4 : 3;
  int class_size = level == pdf::Level::primary ? 35 : 45;

  Gen g(seed);
  struct Mark {
    int records;
    double seconds, rate, cpu_rate, rss_mib;
  };
  std::vector<Mark> marks;
  std::vector<int> checkpoints = {200, 1000, 2000};
  std::size_t bytes = 0;
  double render_s = 0;  // rendering only (generation and parsing excluded)
  double render_cpu_s = 0;
  int done = 0, class_index = 0;
  auto t0 = std::chrono::steady_clock::now();
  std::printf("hocba-render-bench: %d %s records, classes of %d\n", total, level_s.c_str(), class_size);
  while (done < total) {
    int n = std::min(class_size, total - done);
    int grade = first_grade + class_index % grades;
    std::string text = make_class(g, level, grade, class_index / grades, n);
    ++class_index;
    auto cf = pdf::parse_class(text);
    if (!cf || !cf->errors.empty()) {
      std::fprintf(stderr, "generated class does not parse: %s\n",
                   !cf ? cf.error().message.c_str() : cf->errors.front().to_string().c_str());
      return 1;
    }
    for (const auto& st : cf->students) {
      auto r0 = std::chrono::steady_clock::now();
      double c0 = thread_cpu_s();
      auto pdf = pdf::render_record(cf->info, st);
      render_cpu_s += thread_cpu_s() - c0;
      render_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - r0).count();
      if (!pdf) {
        std::fprintf(stderr, "render failed: %s\n", pdf.error().message.c_str());
        return 1;
      }
      bytes += pdf->size();
      if (!out_dir.empty())
        if (auto s = write_file_atomic(out_dir + "/" + st.personal_id + ".pdf", *pdf); !s) {
          std::fprintf(stderr, "%s\n", s.error().message.c_str());
          return 1;
        }
      ++done;
      bool mark = done == total;
      for (int c : checkpoints) mark |= done == c;
      if (mark && (marks.empty() || marks.back().records != done)) {
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        marks.push_back({done, s, done / render_s, done / render_cpu_s, peak_rss_mib()});
        std::printf("  %5d records  %7.2f s  %6.1f records/s (rendering)  %6.1f records/CPU-s  peak RSS %6.1f MiB\n", done, s,
                    done / render_s, done / render_cpu_s, marks.back().rss_mib);
        std::fflush(stdout);
      }
    }
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("total: %d records in %.2f s wall (%.1f records/s incl. generation and parsing), %.1f records/s rendering, "
              "%.2f ms/record (%.2f ms CPU: %.1f records/CPU-s), mean %.1f KiB/record, peak RSS %.1f MiB\n",
              done, wall, done / wall, done / render_s, 1000 * render_s / done, 1000 * render_cpu_s / done, done / render_cpu_s,
              static_cast<double>(bytes) / done / 1024, peak_rss_mib());
  if (as_json) {
    json::array m;
    for (const auto& k : marks)
      m.push_back(json::object{{"records", k.records},
                               {"seconds", k.seconds},
                               {"records_per_s", k.rate},
                               {"records_per_cpu_s", k.cpu_rate},
                               {"peak_rss_mib", k.rss_mib}});
    std::printf("%s\n", json::serialize(json::object{{"records", done},
                                                     {"wall_s", wall},
                                                     {"render_records_per_s", done / render_s},
                                                     {"render_records_per_cpu_s", done / render_cpu_s},
                                                     {"mean_bytes", static_cast<double>(bytes) / done},
                                                     {"marks", m}})
                            .c_str());
  }
  return 0;
}
