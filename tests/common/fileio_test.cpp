// common/'s durable file writing: write_file_atomic and make_dirs_durable report a folder that cannot
// be synced (nothing half-done left behind), and new folders are synced into their parents.
//
// The failures are real where they can be (a folder the writer may not read); a failing fsync(2) of a
// folder is injected by this test program's own fsync(), which takes the place of libc's for the code
// linked into it (symbol interposition: nothing in the production code knows about it).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>

#include "hocba/common/fileio.h"
#include "test_env.h"

namespace {

std::atomic<int> g_dir_fsync_errno{0};  // non-zero: fsync of a folder fails with this errno
std::mutex g_mu;
std::set<ino_t> g_synced_dirs;          // the folders fsync'd (their inode numbers)

}  // namespace

extern "C" int fsync(int fd) {
  struct stat st{};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    {
      std::lock_guard<std::mutex> lock(g_mu);
      g_synced_dirs.insert(st.st_ino);
    }
    if (int e = g_dir_fsync_errno.load()) {
      errno = e;
      return -1;
    }
  }
  return static_cast<int>(::syscall(SYS_fsync, fd));
}

namespace {

using hocba::test::TempDir;
namespace fs = std::filesystem;

ino_t inode(const std::string& p) {
  struct stat st{};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_ino;
}

bool synced(const std::string& dir) {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_synced_dirs.count(inode(dir)) != 0;
}

void forget_syncs() {
  std::lock_guard<std::mutex> lock(g_mu);
  g_synced_dirs.clear();
}

std::size_t entries(const std::string& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

struct FailDirSync {
  explicit FailDirSync(int e) { g_dir_fsync_errno = e; }
  ~FailDirSync() { g_dir_fsync_errno = 0; }
};

TEST(FileIo, AWrittenFileIsSyncedIntoItsFolder) {
  TempDir t;
  forget_syncs();
  ASSERT_TRUE(hocba::write_file_atomic(t.file("a.pdf"), hocba::Bytes{1, 2, 3}));
  EXPECT_EQ(hocba::test::read_text(t.file("a.pdf")), std::string("\x01\x02\x03", 3));
  EXPECT_TRUE(synced(t.path()));
  EXPECT_EQ(entries(t.path()), 1u);
}

TEST(FileIo, ANewFileWhoseFolderCannotBeSyncedIsAnErrorAndLeavesNothing) {
  TempDir t;
  FailDirSync fail(EIO);
  auto st = hocba::write_file_atomic(t.file("new.pdf"), hocba::Bytes{1, 2, 3});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, hocba::Errc::io);
  EXPECT_NE(st.error().message.find("cannot sync the folder " + t.path()), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("Input/output error"), std::string::npos) << st.error().message;
  EXPECT_EQ(entries(t.path()), 0u) << "neither the file nor its temporary file may stay";
}

TEST(FileIo, AReplacedFileWhoseFolderCannotBeSyncedIsAnErrorThatSaysTheContentIsInPlace) {
  TempDir t;
  hocba::test::write_text(t.file("r.pdf"), "old");
  FailDirSync fail(EIO);
  auto st = hocba::write_file_atomic(t.file("r.pdf"), hocba::Bytes{'n', 'e', 'w'});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("may not survive a power loss"), std::string::npos) << st.error().message;
  EXPECT_EQ(hocba::test::read_text(t.file("r.pdf")), "new");  // rename is atomic: old or new, never a mix
  EXPECT_EQ(entries(t.path()), 1u);
}

// A folder the writer may create files in but not open (mode 0300, for a user other than root): its
// fsync is impossible, so nothing is written at all. Run in a child that drops root if need be.
TEST(FileIo, AFolderThatCannotBeOpenedForSyncGetsNothingWritten) {
  TempDir t;
  std::string dir = t.file("wx-only");
  ASSERT_EQ(::mkdir(dir.c_str(), 0300), 0);
  ASSERT_EQ(::chmod(t.path().c_str(), 0711), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0300), 0);
  const uid_t nobody = 65534;
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(dir.c_str(), nobody, nobody), 0);
  }
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::geteuid() == 0 && (::setgid(nobody) != 0 || ::setuid(nobody) != 0)) ::_exit(10);
    auto st = hocba::write_file_atomic(dir + "/out.pdf", hocba::Bytes{1, 2, 3});
    if (st) ::_exit(0);
    ::_exit(st.error().message.find("cannot open the folder " + dir) != std::string::npos ? 1 : 2);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1) << "0: written without a way to sync its folder; 2: another error; 10: setuid failed";
  ASSERT_EQ(::chmod(dir.c_str(), 0700), 0);
  EXPECT_EQ(entries(dir), 0u);
}

TEST(FileIo, NewFoldersAreCreatedAndEachIsSyncedIntoItsParent) {
  TempDir t;
  forget_syncs();
  std::string deep = t.file("records/7/3");
  ASSERT_TRUE(hocba::make_dirs_durable(deep + "/", 0700));
  ASSERT_TRUE(fs::is_directory(deep));
  EXPECT_EQ(fs::status(deep).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_TRUE(synced(t.path())) << "the parent of records/";
  EXPECT_TRUE(synced(t.file("records")));
  EXPECT_TRUE(synced(t.file("records/7")));
  EXPECT_FALSE(synced(deep)) << "an empty new folder needs no sync of its own";

  // Only what is new is synced.
  forget_syncs();
  ASSERT_TRUE(hocba::make_dirs_durable(t.file("records/7/4")));
  EXPECT_TRUE(synced(t.file("records/7")));
  EXPECT_FALSE(synced(t.file("records")));
  EXPECT_FALSE(synced(t.path()));
  forget_syncs();
  ASSERT_TRUE(hocba::make_dirs_durable(deep));
  EXPECT_FALSE(synced(t.file("records/7")));
}

TEST(FileIo, ANewFolderWhoseParentCannotBeSyncedIsAnError) {
  TempDir t;
  FailDirSync fail(EIO);
  auto st = hocba::make_dirs_durable(t.file("records/9"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, hocba::Errc::io);
  EXPECT_NE(st.error().message.find("cannot sync the folder " + t.file("records")), std::string::npos) << st.error().message;
}

TEST(FileIo, AFileInTheWayOfAFolderIsAnError) {
  TempDir t;
  hocba::test::write_text(t.file("records"), "not a folder");
  auto st = hocba::make_dirs_durable(t.file("records/1"));
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find(t.file("records") + " exists and is not a folder"), std::string::npos) << st.error().message;
  EXPECT_EQ(hocba::test::read_text(t.file("records")), "not a folder");
}

TEST(FileIo, RelativeFoldersWork) {
  TempDir t;
  std::string cwd = fs::current_path().string();
  ASSERT_EQ(::chdir(t.path().c_str()), 0);
  forget_syncs();
  auto st = hocba::make_dirs_durable("x/y");
  auto w = hocba::write_file_atomic("x/y/z.pdf", hocba::Bytes{9});
  bool dot_synced = synced(".");
  ASSERT_EQ(::chdir(cwd.c_str()), 0);
  ASSERT_TRUE(st) << st.error().message;
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_TRUE(dot_synced);
  EXPECT_TRUE(fs::is_regular_file(t.file("x/y/z.pdf")));
}

}  // namespace
