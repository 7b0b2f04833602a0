// The state store and the audit chain (docs/audit.md).
#include "hocba/store/store.h"

#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <mutex>
#include <ostream>
#include <vector>

#include "hocba/common/fileio.h"
#include "store_internal.h"

namespace hocba::store {
namespace {

using DbPtr = std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

const std::string kZeroHash(64, '0');

// Schema migrations, in order: migration i (1-based) brings the schema from version i-1 to i. Each
// runs in one transaction together with the update of schema_version. Never edit a released step;
// add a new one (and raise Store::kSchemaVersion).
const std::vector<const char*> kMigrations = {
    // v1: users, keys, classes, records, jobs, audit.
    R"sql(
CREATE TABLE users(
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL CHECK (role IN ('admin','principal','homeroom_teacher','subject_teacher','viewer')),
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0,1)));
CREATE TABLE keys(
  id INTEGER PRIMARY KEY,
  uri TEXT NOT NULL UNIQUE,
  owner_user_id INTEGER REFERENCES users(id),
  is_seal INTEGER NOT NULL DEFAULT 0 CHECK (is_seal IN (0,1)),
  created_at TEXT NOT NULL);
CREATE TABLE classes(
  id INTEGER PRIMARY KEY,
  school_year TEXT NOT NULL,
  name TEXT NOT NULL,
  homeroom_user_id INTEGER REFERENCES users(id),
  created_at TEXT NOT NULL,
  UNIQUE(school_year, name));
CREATE TABLE records(
  id INTEGER PRIMARY KEY,
  class_id INTEGER NOT NULL REFERENCES classes(id),
  personal_id TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  state TEXT NOT NULL CHECK (state IN ('draft','signing','signed','superseded','failed')),
  pdf_path TEXT,
  pdf_sha256 TEXT,
  superseded_by INTEGER REFERENCES records(id),
  created_at TEXT NOT NULL,
  UNIQUE(class_id, personal_id, version));
CREATE TABLE jobs(
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued','running','done','failed','cancelled')),
  created_by INTEGER REFERENCES users(id),
  payload_json TEXT NOT NULL DEFAULT '{}',
  result_json TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL);
CREATE TABLE audit(
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  detail_json TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL);
)sql",
    // v2: the appliance's workflow (docs/appliance.md). Nothing wrote keys, records or jobs in v1, so
    // those tables are made anew.
    R"sql(
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
CREATE TABLE sessions(
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  created_at TEXT NOT NULL,
  expires_unix INTEGER NOT NULL,
  address TEXT NOT NULL DEFAULT '');
DROP TABLE keys;
CREATE TABLE keys(
  id INTEGER PRIMARY KEY,
  uri TEXT NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  owner_user_id INTEGER REFERENCES users(id),
  is_seal INTEGER NOT NULL DEFAULT 0 CHECK (is_seal IN (0,1)),
  created_at TEXT NOT NULL,
  unbound_at TEXT,
  CHECK ((owner_user_id IS NULL) = (is_seal = 1)));
CREATE UNIQUE INDEX keys_bound_uri ON keys(uri) WHERE unbound_at IS NULL;
ALTER TABLE classes ADD COLUMN source_json TEXT NOT NULL DEFAULT '{}';
DROP TABLE records;
CREATE TABLE records(
  id INTEGER PRIMARY KEY,
  class_id INTEGER NOT NULL REFERENCES classes(id),
  personal_id TEXT NOT NULL,
  student_name TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  state TEXT NOT NULL CHECK (state IN ('draft','signing','final','superseded','failed')),
  steps_done INTEGER NOT NULL DEFAULT 0,
  student_json TEXT NOT NULL,
  pdf_path TEXT,
  pdf_sha256 TEXT,
  error TEXT,
  superseded_by INTEGER REFERENCES records(id),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE(class_id, personal_id, version));
CREATE TABLE signatures(
  record_id INTEGER NOT NULL REFERENCES records(id),
  step INTEGER NOT NULL,
  field TEXT NOT NULL,
  user_id INTEGER REFERENCES users(id),
  key_id INTEGER REFERENCES keys(id),
  job_id INTEGER,
  signed_at TEXT NOT NULL,
  pdf_sha256 TEXT NOT NULL,
  PRIMARY KEY(record_id, step));
DROP TABLE jobs;
CREATE TABLE jobs(
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('running','paused','done','failed','cancelled')),
  field TEXT NOT NULL,
  key_id INTEGER NOT NULL REFERENCES keys(id),
  created_by INTEGER NOT NULL REFERENCES users(id),
  class_id INTEGER REFERENCES classes(id),
  total INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL);
CREATE TABLE job_items(
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  record_id INTEGER NOT NULL REFERENCES records(id),
  position INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued','done','failed','skipped')),
  error TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(job_id, record_id));
CREATE INDEX job_items_by_state ON job_items(job_id, state, position);
CREATE TABLE corrections(
  id INTEGER PRIMARY KEY,
  record_id INTEGER NOT NULL REFERENCES records(id),
  requested_by INTEGER NOT NULL REFERENCES users(id),
  student_json TEXT NOT NULL,
  why TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending','approved','rejected')),
  decided_by INTEGER REFERENCES users(id),
  decided_at TEXT,
  note TEXT NOT NULL DEFAULT '',
  new_record_id INTEGER REFERENCES records(id),
  created_at TEXT NOT NULL);
)sql",
    // v3: a job's stop reason for programs (an error code), beside the sentence for people.
    R"sql(
ALTER TABLE jobs ADD COLUMN reason_code TEXT NOT NULL DEFAULT '';
)sql",
    // v4: the role deputy_principal. SQLite cannot change a CHECK constraint, so users is made anew.
    // Its rows are kept aside while it is dropped; the other tables refer to it by name, and the
    // foreign keys are checked at the commit, when every referenced user is back under its own id.
    R"sql(
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE users_v3 AS SELECT * FROM users;
DROP TABLE users;
CREATE TABLE users(
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL CHECK (role IN ('admin','principal','deputy_principal','homeroom_teacher','subject_teacher','viewer')),
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0,1)),
  totp_secret TEXT,
  totp_last_step INTEGER NOT NULL DEFAULT 0);
INSERT INTO users(id, username, display_name, role, password_hash, created_at, disabled, totp_secret, totp_last_step)
  SELECT id, username, display_name, role, password_hash, created_at, disabled, totp_secret, totp_last_step FROM users_v3;
DROP TABLE users_v3;
)sql",
    // v5: subject teachers. Each class-subject's teacher, and the score sheets they confirm (one
    // signed PDF per class, subject and step; a changed score makes a new version to confirm).
    R"sql(
CREATE TABLE class_subjects(
  class_id INTEGER NOT NULL REFERENCES classes(id),
  subject TEXT NOT NULL,
  teacher_user_id INTEGER REFERENCES users(id),
  PRIMARY KEY(class_id, subject));
CREATE TABLE sheets(
  id INTEGER PRIMARY KEY,
  class_id INTEGER NOT NULL REFERENCES classes(id),
  subject TEXT NOT NULL,
  step TEXT NOT NULL,
  version INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('waiting','confirmed','superseded')),
  data_sha256 TEXT NOT NULL,
  pdf_path TEXT NOT NULL,
  pdf_sha256 TEXT NOT NULL,
  confirmed_by INTEGER REFERENCES users(id),
  key_id INTEGER REFERENCES keys(id),
  confirmed_at TEXT,
  created_at TEXT NOT NULL,
  UNIQUE(class_id, subject, step, version));
CREATE INDEX sheets_current ON sheets(class_id, state);
)sql",
    // v6: a job signs one step or several consecutive steps of each record (the principal's night:
    // the principal's signature, then the seal), each with its key; an item counts the job's steps it
    // has passed. jobs.field and jobs.key_id stay: the job's first step.
    R"sql(
CREATE TABLE job_steps(
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  step INTEGER NOT NULL,
  field TEXT NOT NULL,
  key_id INTEGER NOT NULL REFERENCES keys(id),
  PRIMARY KEY(job_id, step));
INSERT INTO job_steps(job_id, step, field, key_id) SELECT id, 0, field, key_id FROM jobs;
ALTER TABLE job_items ADD COLUMN steps_done INTEGER NOT NULL DEFAULT 0;
UPDATE job_items SET steps_done = 1 WHERE state = 'done';
)sql",
    // v7: score sheets are made when what they show changes, never when someone lists them. A class
    // whose sheets may be out of date is marked in sheets_dirty (a teacher assigned with `hocba class
    // teacher`, which cannot render; a refresh that did not finish); hocbad refreshes the marked classes
    // and clears the mark. A sheet's data_sha256 becomes the hash of its data (pdf::score_sheet_data);
    // a sheet made before held its unsigned PDF's hash, now marked "pdf:". Classes with a teacher and
    // no sheet yet (which the listing used to make) are marked.
    R"sql(
CREATE TABLE sheets_dirty(
  class_id INTEGER PRIMARY KEY REFERENCES classes(id),
  generation INTEGER NOT NULL,
  marked_at TEXT NOT NULL);
UPDATE sheets SET data_sha256 = 'pdf:' || data_sha256;
INSERT INTO sheets_dirty(class_id, generation, marked_at)
  SELECT DISTINCT cs.class_id, 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM class_subjects cs
  WHERE cs.teacher_user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sheets s WHERE s.class_id = cs.class_id AND s.subject = cs.subject);
)sql",
    // v8: handwritten-signature images (one per user) and the school's seal image, drawn in signed
    // fields. The PNG is STATE/images/SHA256.png; a row names the current one of its slot.
    R"sql(
CREATE TABLE images(
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('signature','seal')),
  user_id INTEGER REFERENCES users(id),
  sha256 TEXT NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  CHECK ((kind = 'seal') = (user_id IS NULL)));
CREATE UNIQUE INDEX images_slot ON images(kind, coalesce(user_id, 0));
)sql",
};
static_assert(Store::kSchemaVersion == 8, "kMigrations must hold one step per schema version");

}  // namespace

std::string now_utc() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

namespace {

std::string text_col(sqlite3_stmt* s, int i) {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

// The only place SQLite errors become ours.
Error db_error(sqlite3* db, const std::string& what) {
  int rc = sqlite3_extended_errcode(db);
  Errc c = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? Errc::timeout : Errc::io;
  return make_error(c, what + ": " + sqlite3_errmsg(db));
}

struct Head {
  std::int64_t seq = 0;
  std::string hash;
};

// audit.head: "SEQ HASH\n". nullopt when missing; Error when unreadable or malformed.
Result<std::optional<Head>> read_head(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return std::optional<Head>{};
  auto b = read_file(path, 4096);
  if (!b) return b.error();
  std::string s(b->begin(), b->end());
  Head h;
  auto sp = s.find(' ');
  bool good = sp != std::string::npos && sp > 0 && s.size() == sp + 1 + 64 + 1 && s.back() == '\n';
  if (good) {
    for (std::size_t i = 0; i < sp; ++i) good = good && s[i] >= '0' && s[i] <= '9';
    h.hash = s.substr(sp + 1, 64);
    for (char c : h.hash) good = good && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }
  if (!good || sp > 18) return make_error(Errc::invalid_argument, path + " is malformed");
  h.seq = std::stoll(s.substr(0, sp));
  return std::optional<Head>{h};
}

}  // namespace

std::string audit_canonical(const AuditEntry& e) {
  // "hocba-audit-v1\n" then each field as "<decimal byte length>:<bytes>\n": unambiguous whatever
  // bytes the fields hold.
  std::string out = "hocba-audit-v1\n";
  for (const std::string* f : {static_cast<const std::string*>(nullptr), &e.at, &e.actor, &e.action, &e.detail_json, &e.prev_hash}) {
    std::string v = f ? *f : std::to_string(e.seq);
    out += std::to_string(v.size()) + ":" + v + "\n";
  }
  return out;
}

std::string audit_hash(const AuditEntry& e) {
  std::string c = audit_canonical(e);
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(c.data()), c.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  return hex;
}

struct Store::Impl {
  std::string dir;
  DbPtr db{nullptr, &sqlite3_close_v2};
  std::mutex mu;

  Status exec(const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db.get(), sql, nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string m = msg ? msg : sqlite3_errmsg(db.get());
      sqlite3_free(msg);
      Error e = db_error(db.get(), "database");
      e.message = "database " + dir + "/hocba.db: " + m;
      return e;
    }
    return {};
  }
  Result<StmtPtr> prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db.get(), sql, -1, &s, nullptr) != SQLITE_OK) return db_error(db.get(), "preparing a statement");
    return StmtPtr(s, &sqlite3_finalize);
  }
  void rollback() { sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr); }

  // The schema version (0 for a new database).
  Result<int> version() {
    auto s = prepare("SELECT name FROM sqlite_master WHERE type='table' AND name='schema_version'");
    if (!s) return s.error();
    if (sqlite3_step(s->get()) != SQLITE_ROW) return 0;
    auto v = prepare("SELECT max(version) FROM schema_version");
    if (!v) return v.error();
    if (sqlite3_step(v->get()) != SQLITE_ROW) return db_error(db.get(), "reading the schema version");
    return sqlite3_column_int(v->get(), 0);
  }

  Status migrate() {
    for (;;) {
      if (auto st = exec("BEGIN IMMEDIATE"); !st) return st;
      auto v = version();
      if (!v) {
        rollback();
        return v.error();
      }
      if (*v > kSchemaVersion) {
        rollback();
        return make_error(Errc::invalid_argument, dir + "/hocba.db has schema version " + std::to_string(*v) +
                                                      ", newer than this hocba knows (" + std::to_string(kSchemaVersion) +
                                                      "): use the newer hocba or restore a backup");
      }
      if (*v == kSchemaVersion) return exec("COMMIT");
      Status st = *v == 0 ? exec("CREATE TABLE schema_version(version INTEGER NOT NULL); INSERT INTO schema_version VALUES(0)")
                          : Status::success();
      if (st) st = exec(kMigrations[static_cast<std::size_t>(*v)]);
      if (st) st = exec(("UPDATE schema_version SET version = " + std::to_string(*v + 1)).c_str());
      if (st) st = exec("COMMIT");
      if (!st) {
        rollback();
        return make_error(st.error().code, "migrating the schema to version " + std::to_string(*v + 1) + ": " + st.error().message);
      }
    }
  }

  // Inside an open BEGIN IMMEDIATE transaction: inserts the next entry.
  Result<AuditEntry> append_in_tx(const std::string& actor, const std::string& action, const std::string& detail) {
    AuditEntry e;
    {
      auto s = prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
      if (!s) return s.error();
      int rc = sqlite3_step(s->get());
      if (rc == SQLITE_ROW) {
        e.seq = sqlite3_column_int64(s->get(), 0) + 1;
        e.prev_hash = text_col(s->get(), 1);
      } else if (rc == SQLITE_DONE) {
        e.seq = 1;
        e.prev_hash = kZeroHash;
      } else {
        return db_error(db.get(), "reading the audit log");
      }
    }
    e.at = now_utc();
    e.actor = actor;
    e.action = action;
    e.detail_json = detail;
    e.hash = audit_hash(e);
    auto ins = prepare("INSERT INTO audit(seq, at, actor, action, detail_json, prev_hash, hash) VALUES(?,?,?,?,?,?,?)");
    if (!ins) return ins.error();
    sqlite3_stmt* s = ins->get();
    sqlite3_bind_int64(s, 1, e.seq);
    int i = 2;
    for (const std::string* f : {&e.at, &e.actor, &e.action, &e.detail_json, &e.prev_hash, &e.hash})
      sqlite3_bind_text(s, i++, f->data(), static_cast<int>(f->size()), SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE) return db_error(db.get(), "appending to the audit log");
    return e;
  }

  // After COMMIT: records (seq, hash) in audit.head unless it already names a later entry (another
  // writer got there first).
  Status write_head(const AuditEntry& e) {
    std::string path = dir + "/audit.head";
    FileLock lock(dir + "/audit.head.lock");
    auto cur = read_head(path);
    if (cur && cur->has_value() && (*cur)->seq >= e.seq) return {};
    std::string text = std::to_string(e.seq) + " " + e.hash + "\n";
    return write_file_atomic(path, text.data(), text.size(), 0600);
  }
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
const std::string& Store::state_dir() const { return impl_->dir; }
std::string Store::db_path() const { return impl_->dir + "/hocba.db"; }
std::string Store::head_path() const { return impl_->dir + "/audit.head"; }

Result<Store> Store::open(const std::string& state_dir) {
  if (sodium_init() < 0) return make_error(Errc::crypto, "libsodium cannot be initialised");
  if (state_dir.empty()) return make_error(Errc::invalid_argument, "no state folder given");
  if (::mkdir(state_dir.c_str(), 0700) != 0 && errno != EEXIST)
    return make_error(Errc::io, "cannot create the state folder " + state_dir + ": " + std::strerror(errno));
  auto impl = std::make_unique<Impl>();
  impl->dir = state_dir;
  std::string path = state_dir + "/hocba.db";
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  impl->db.reset(raw);
  if (rc != SQLITE_OK)
    return make_error(Errc::io, "cannot open " + path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  ::chmod(path.c_str(), 0600);
  sqlite3_busy_timeout(raw, 10000);
  sqlite3_extended_result_codes(raw, 1);
  for (const char* p : {"PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=FULL"})
    if (auto st = impl->exec(p); !st) return make_error(st.error().code, "cannot open " + path + ": " + st.error().message);
  if (auto st = impl->migrate(); !st) return st.error();
  return Store(std::move(impl));
}

// --- generic transactions (for the workflow layer) --------------------------------------------------

namespace {

Status bind_all(sqlite3* db, sqlite3_stmt* s, const std::vector<DbValue>& params) {
  int i = 1;
  for (const DbValue& v : params) {
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::monostate>(v)) rc = sqlite3_bind_null(s, i);
    else if (auto n = std::get_if<std::int64_t>(&v)) rc = sqlite3_bind_int64(s, i, *n);
    else if (auto d = std::get_if<double>(&v)) rc = sqlite3_bind_double(s, i, *d);
    else {
      const auto& t = std::get<std::string>(v);
      rc = sqlite3_bind_text(s, i, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
    }
    if (rc != SQLITE_OK) return db_error(db, "binding a parameter");
    ++i;
  }
  return {};
}

DbValue column(sqlite3_stmt* s, int i) {
  switch (sqlite3_column_type(s, i)) {
    case SQLITE_INTEGER: return static_cast<std::int64_t>(sqlite3_column_int64(s, i));
    case SQLITE_FLOAT: return sqlite3_column_double(s, i);
    case SQLITE_NULL: return std::monostate{};
    default: return text_col(s, i);
  }
}

}  // namespace

std::int64_t as_int(const DbValue& v, std::int64_t def) {
  if (auto n = std::get_if<std::int64_t>(&v)) return *n;
  if (auto d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  return def;
}
std::string as_text(const DbValue& v) {
  if (auto t = std::get_if<std::string>(&v)) return *t;
  if (auto n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  return "";
}
bool is_null(const DbValue& v) { return std::holds_alternative<std::monostate>(v); }

struct Tx::Impl {
  Store::Impl* store = nullptr;
  std::vector<AuditEntry> appended;
};

Tx::Tx(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tx::~Tx() = default;

Result<std::vector<DbRow>> Tx::query(const std::string& sql, const std::vector<DbValue>& params) {
  sqlite3* db = impl_->store->db.get();
  auto st = impl_->store->prepare(sql.c_str());
  if (!st) return st.error();
  if (auto b = bind_all(db, st->get(), params); !b) return b.error();
  std::vector<DbRow> rows;
  int rc;
  while ((rc = sqlite3_step(st->get())) == SQLITE_ROW) {
    DbRow r;
    int n = sqlite3_column_count(st->get());
    for (int i = 0; i < n; ++i) r.push_back(column(st->get(), i));
    rows.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return db_error(db, "query");
  return rows;
}

Result<std::int64_t> Tx::exec(const std::string& sql, const std::vector<DbValue>& params) {
  sqlite3* db = impl_->store->db.get();
  auto st = impl_->store->prepare(sql.c_str());
  if (!st) return st.error();
  if (auto b = bind_all(db, st->get(), params); !b) return b.error();
  int rc = sqlite3_step(st->get());
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return db_error(db, "statement");
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db));
}

std::int64_t Tx::changes() { return sqlite3_changes(impl_->store->db.get()); }

Result<AuditEntry> Tx::audit(const std::string& actor, const std::string& action, const std::string& detail_json) {
  boost::system::error_code ec;
  auto v = boost::json::parse(detail_json, ec);
  if (ec || !v.is_object()) return make_error(Errc::invalid_argument, "the detail of an audit entry must be a JSON object");
  auto e = impl_->store->append_in_tx(actor, action, detail_json);
  if (e) impl_->appended.push_back(*e);
  return e;
}

Status Store::transaction(const std::function<Status(Tx&)>& fn) {
  std::lock_guard<std::mutex> g(impl_->mu);
  if (auto st = impl_->exec("BEGIN IMMEDIATE"); !st) return st;
  auto ti = std::make_unique<Tx::Impl>();
  ti->store = impl_.get();
  Tx tx(std::move(ti));
  Status st;
  try {
    st = fn(tx);
  } catch (...) {
    impl_->rollback();
    throw;
  }
  if (st) st = impl_->exec("COMMIT");
  if (!st) {
    impl_->rollback();
    return st;
  }
  if (!tx.impl_->appended.empty()) {
    if (auto h = impl_->write_head(tx.impl_->appended.back()); !h)
      return make_error(h.error().code, "saved, but audit.head not written: " + h.error().message);
  }
  return {};
}

Status Store::set_homeroom(const std::string& actor, std::int64_t class_id, const std::string& username) {
  return transaction([&](Tx& tx) -> Status {
    auto u = tx.query("SELECT id FROM users WHERE username = ? AND role = 'homeroom_teacher' AND disabled = 0", {username});
    if (!u) return u.error();
    if (u->empty()) return make_error(Errc::invalid_argument, "\"" + username + "\" is not an active homeroom teacher");
    if (auto e = tx.exec("UPDATE classes SET homeroom_user_id = ? WHERE id = ?", {u->front()[0], class_id}); !e) return e.error();
    if (tx.changes() == 0) return make_error(Errc::not_found, "no class " + std::to_string(class_id));
    if (auto a = tx.audit(actor, "class.bind", boost::json::serialize(boost::json::object{{"class_id", class_id}, {"username", username}})); !a)
      return a.error();
    return {};
  });
}

Result<std::vector<DbRow>> Store::query(const std::string& sql, const std::vector<DbValue>& params) {
  std::lock_guard<std::mutex> g(impl_->mu);
  auto ti = std::make_unique<Tx::Impl>();
  ti->store = impl_.get();
  Tx tx(std::move(ti));
  return tx.query(sql, params);
}

Result<int> Store::schema_version() {
  std::lock_guard<std::mutex> g(impl_->mu);
  return impl_->version();
}

Result<AuditEntry> Store::append_audit(const std::string& actor, const std::string& action, const std::string& detail_json) {
  if (actor.empty() || action.empty()) return make_error(Errc::invalid_argument, "an audit entry needs an actor and an action");
  boost::system::error_code ec;
  auto v = boost::json::parse(detail_json, ec);
  if (ec || !v.is_object()) return make_error(Errc::invalid_argument, "the detail of an audit entry must be a JSON object");
  std::lock_guard<std::mutex> g(impl_->mu);
  if (auto st = impl_->exec("BEGIN IMMEDIATE"); !st) return st.error();
  auto e = impl_->append_in_tx(actor, action, detail_json);
  Status st = e ? impl_->exec("COMMIT") : Status(e.error());
  if (!st) {
    impl_->rollback();
    return st.error();
  }
  if (auto h = impl_->write_head(*e); !h) return make_error(h.error().code, "audit entry written, but not audit.head: " + h.error().message);
  return e;
}

Result<std::int64_t> Store::audit_count() {
  std::lock_guard<std::mutex> g(impl_->mu);
  auto s = impl_->prepare("SELECT count(*) FROM audit");
  if (!s) return s.error();
  if (sqlite3_step(s->get()) != SQLITE_ROW) return db_error(impl_->db.get(), "counting the audit log");
  return static_cast<std::int64_t>(sqlite3_column_int64(s->get(), 0));
}

Result<AuditVerdict> Store::verify_audit() {
  std::lock_guard<std::mutex> g(impl_->mu);
  // The head is read first, then the log in one read transaction (a consistent snapshot). Writers
  // update the head only after their commit, so the snapshot holds every entry the head names; an
  // append committed in between only makes the log longer than the head, which is allowed.
  auto head = read_head(head_path());
  if (!head) return head.error();
  if (auto st = impl_->exec("BEGIN"); !st) return st.error();
  struct Tx {
    Impl* i;
    ~Tx() { i->rollback(); }
  } tx{impl_.get()};
  auto s = impl_->prepare("SELECT seq, at, actor, action, detail_json, prev_hash, hash FROM audit ORDER BY seq");
  if (!s) return s.error();
  AuditVerdict v;
  std::vector<AuditEntry> all;
  int rc;
  while ((rc = sqlite3_step(s->get())) == SQLITE_ROW) {
    AuditEntry e;
    e.seq = sqlite3_column_int64(s->get(), 0);
    e.at = text_col(s->get(), 1);
    e.actor = text_col(s->get(), 2);
    e.action = text_col(s->get(), 3);
    e.detail_json = text_col(s->get(), 4);
    e.prev_hash = text_col(s->get(), 5);
    e.hash = text_col(s->get(), 6);
    all.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return db_error(impl_->db.get(), "reading the audit log");

  auto bad = [&](AuditVerdict::Problem p, std::int64_t seq, std::string msg) {
    v.ok = false;
    v.problem = p;
    v.problem_seq = seq;
    v.message = std::move(msg);
    return v;
  };
  std::int64_t expected = 1;
  std::string prev = kZeroHash;
  for (const AuditEntry& e : all) {
    if (e.seq > expected) {
      std::string m = e.seq == expected + 1 ? "entry " + std::to_string(expected) + " is missing"
                                            : "entries " + std::to_string(expected) + " to " + std::to_string(e.seq - 1) + " are missing";
      return bad(AuditVerdict::Problem::missing, expected, m);
    }
    if (e.seq < expected)  // seq is the primary key, so this means a seq below 1
      return bad(AuditVerdict::Problem::changed, e.seq, "entry " + std::to_string(e.seq) + " has an invalid number");
    if (audit_hash(e) != e.hash) {
      // Was it written under another number (entries swapped or renumbered)?
      AuditEntry probe = e;
      for (const AuditEntry& o : all) {
        probe.seq = o.seq;
        if (o.seq != e.seq && audit_hash(probe) == e.hash)
          return bad(AuditVerdict::Problem::moved, e.seq,
                     "entry " + std::to_string(e.seq) + " was moved (it was written as entry " + std::to_string(o.seq) + ")");
      }
      return bad(AuditVerdict::Problem::changed, e.seq, "entry " + std::to_string(e.seq) + " was changed (its hash does not match)");
    }
    if (e.prev_hash != prev)
      return bad(AuditVerdict::Problem::broken_link, e.seq,
                 "entry " + std::to_string(e.seq) + " does not follow entry " + std::to_string(e.seq - 1) +
                     " (its prev_hash does not match: one of them was replaced)");
    prev = e.hash;
    ++expected;
    ++v.checked;
  }
  std::int64_t last = expected - 1;
  if (!head->has_value()) {
    if (last > 0)
      return bad(AuditVerdict::Problem::head_missing, last,
                 "audit.head is missing: the log has " + std::to_string(last) + " entries but its end cannot be checked");
    return v;
  }
  const Head& h = **head;
  if (h.seq > last) return bad(AuditVerdict::Problem::truncated, last + 1, "entries after " + std::to_string(last) + " are missing");
  if (h.seq >= 1 && all[static_cast<std::size_t>(h.seq - 1)].hash != h.hash)
    return bad(AuditVerdict::Problem::head_mismatch, h.seq,
               "entry " + std::to_string(h.seq) + " does not match audit.head (the log was rewritten from there)");
  return v;
}

Status Store::export_audit(std::ostream& out) {
  std::lock_guard<std::mutex> g(impl_->mu);
  if (auto st = impl_->exec("BEGIN"); !st) return st;
  struct Tx {
    Impl* i;
    ~Tx() { i->rollback(); }
  } tx{impl_.get()};
  auto s = impl_->prepare("SELECT seq, at, actor, action, detail_json, prev_hash, hash FROM audit ORDER BY seq");
  if (!s) return s.error();
  int rc;
  while ((rc = sqlite3_step(s->get())) == SQLITE_ROW) {
    boost::json::object o;
    o["seq"] = sqlite3_column_int64(s->get(), 0);
    o["at"] = text_col(s->get(), 1);
    o["actor"] = text_col(s->get(), 2);
    o["action"] = text_col(s->get(), 3);
    o["detail_json"] = text_col(s->get(), 4);
    o["prev_hash"] = text_col(s->get(), 5);
    o["hash"] = text_col(s->get(), 6);
    out << boost::json::serialize(o) << '\n';
  }
  if (rc != SQLITE_DONE) return db_error(impl_->db.get(), "reading the audit log");
  out.flush();
  if (!out) return make_error(Errc::io, "cannot write the audit export");
  return {};
}

Result<std::vector<AuditEntry>> Store::audit_entries(std::int64_t after, std::int64_t limit) {
  auto rows = query("SELECT seq, at, actor, action, detail_json, prev_hash, hash FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",
                    {after, limit});
  if (!rows) return rows.error();
  std::vector<AuditEntry> out;
  for (const DbRow& r : *rows)
    out.push_back(AuditEntry{as_int(r[0]), as_text(r[1]), as_text(r[2]), as_text(r[3]), as_text(r[4]), as_text(r[5]), as_text(r[6])});
  return out;
}

Result<std::optional<AuditEntry>> Store::last_audit(const std::string& action) {
  auto rows = query("SELECT seq, at, actor, action, detail_json, prev_hash, hash FROM audit WHERE action = ? ORDER BY seq DESC LIMIT 1",
                    {action});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<AuditEntry>{};
  const DbRow& r = rows->front();
  return std::optional<AuditEntry>{
      AuditEntry{as_int(r[0]), as_text(r[1]), as_text(r[2]), as_text(r[3]), as_text(r[4]), as_text(r[5]), as_text(r[6])}};
}

}  // namespace hocba::store
