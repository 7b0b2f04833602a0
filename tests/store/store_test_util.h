// What the store's tests share: a store opened or the test stops, and statements run through a
// connection of our own (as an older hocba or an intruder would run them: foreign keys off, SQLite's
// default).
#pragma once
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <stdexcept>
#include <string>

#include "hocba/store/store.h"

namespace hocba::test {

inline store::Store open_ok(const std::string& dir) {
  auto s = store::Store::open(dir);
  if (!s) throw std::runtime_error(s.error().message);
  return std::move(s).value();
}

inline void raw_sql(const std::string& db_path, const std::string& statements) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  int rc = sqlite3_exec(db, statements.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

}  // namespace hocba::test
