// The appliance's state store (state_dir/hocba.db, SQLite in WAL mode) and its tamper-evident audit
// trail (docs/audit.md). No SQLite or libsodium type appears here.
//
// Thread safety: one Store holds one SQLite connection behind a mutex, so a Store may be shared by
// several threads (their calls run one after the other). Several Stores on the same state folder, in
// one process or in several, are safe too: every write is a BEGIN IMMEDIATE transaction (writers
// wait for each other up to the busy timeout) and the head file is updated under a file lock.
#pragma once
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/secret.h"
#include "hocba/store/roles.h"

namespace hocba::store {

struct AuditEntry {
  std::int64_t seq = 0;
  std::string at;           // UTC, ISO 8601 with milliseconds: 2026-11-23T11:12:31.123Z
  std::string actor;        // who: "user:alice", "cli:root", "system"
  std::string action;       // what: "user.add", "record.sign", ...
  std::string detail_json;  // a JSON object, stored and hashed byte for byte
  std::string prev_hash;    // hex SHA-256 of the entry before (64 zeros for the first entry)
  std::string hash;         // hex SHA-256 of this entry's canonical serialization
};

// The result of walking the chain: ok, or the FIRST problem found.
struct AuditVerdict {
  enum class Problem { none, changed, moved, missing, broken_link, truncated, head_mismatch, head_missing, bad_head };
  bool ok = true;
  std::int64_t checked = 0;      // entries whose hash and link were checked
  std::int64_t problem_seq = 0;  // the entry the problem is about (0 when ok)
  Problem problem = Problem::none;
  std::string message;           // one line, e.g. "entry 17 was changed (its hash does not match)"
};

// The hash input of an entry (docs/audit.md): exposed for tests and for the department's checker.
std::string audit_canonical(const AuditEntry& e);
std::string audit_hash(const AuditEntry& e);  // lowercase hex SHA-256 of audit_canonical(e)

// A value in or out of SQL: NULL, an integer, a real or text (blobs are not used).
using DbValue = std::variant<std::monostate, std::int64_t, double, std::string>;
using DbRow = std::vector<DbValue>;
std::int64_t as_int(const DbValue& v, std::int64_t def = 0);
std::string as_text(const DbValue& v);  // "" for NULL
bool is_null(const DbValue& v);

class Store;

// One write transaction (Store::transaction): SQL with bound parameters, and audit entries that are
// committed together with the change they describe.
class Tx {
 public:
  ~Tx();
  Tx(const Tx&) = delete;
  Tx& operator=(const Tx&) = delete;
  Result<std::vector<DbRow>> query(const std::string& sql, const std::vector<DbValue>& params = {});
  // Runs one statement; returns the last inserted row id.
  Result<std::int64_t> exec(const std::string& sql, const std::vector<DbValue>& params = {});
  std::int64_t changes();  // rows changed by the last exec
  Result<AuditEntry> audit(const std::string& actor, const std::string& action, const std::string& detail_json = "{}");

 private:
  friend class Store;
  struct Impl;
  explicit Tx(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Store {
 public:
  static constexpr int kSchemaVersion = 8;  // the newest schema this code knows

  // Opens (creating the folder, mode 0700, and the database if needed) state_dir/hocba.db and brings
  // its schema up to kSchemaVersion. A database with a newer schema is refused (Errc::invalid_argument).
  static Result<Store> open(const std::string& state_dir);
  ~Store();
  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& state_dir() const;
  std::string db_path() const;    // state_dir/hocba.db
  std::string head_path() const;  // state_dir/audit.head
  Result<int> schema_version();

  // Appends one entry (detail_json must be a JSON object; "{}" when there is nothing to say) and
  // updates audit.head. Returns the new entry.
  Result<AuditEntry> append_audit(const std::string& actor, const std::string& action, const std::string& detail_json = "{}");
  // Walks the whole chain and compares its end with audit.head. Errors only when the database cannot
  // be read; a broken chain is a verdict with ok == false.
  Result<AuditVerdict> verify_audit();
  // JSON Lines, one entry per line, in seq order (docs/audit.md).
  Status export_audit(std::ostream& out);
  Result<std::int64_t> audit_count();

  // Audit entries with seq > after, in seq order, at most `limit`.
  Result<std::vector<AuditEntry>> audit_entries(std::int64_t after, std::int64_t limit);
  // The latest entry of `action` (nullopt when there is none).
  Result<std::optional<AuditEntry>> last_audit(const std::string& action);

  // Users, sessions, key bindings and images have their repositories: users.h, sessions.h, keys.h, images.h.

  // The homeroom teacher of a class (an active homeroom_teacher user).
  Status set_homeroom(const std::string& actor, std::int64_t class_id, const std::string& username);

  // Runs `fn` in a BEGIN IMMEDIATE transaction, committed when it returns success and rolled back
  // otherwise (or when it throws); audit.head is updated after the commit.
  Status transaction(const std::function<Status(Tx&)>& fn);
  // A read outside any transaction of ours.
  Result<std::vector<DbRow>> query(const std::string& sql, const std::vector<DbValue>& params = {});

 private:
  friend class Tx;
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hocba::store
