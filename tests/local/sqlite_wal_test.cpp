// What only a long-running SQLite store shows: its write-ahead log stays bounded because the
// checkpoints really copy frames into the database, and start-up refuses a file it cannot trust.
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include "local/sqlite_session_store.hpp"

#include "core/session.hpp"
#include "support/temp_dir.hpp"

namespace qr::local {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir() {
  return testing::fresh_temp_dir("qr-sqlite-wal");
}

// A session as the server writes them: a random-looking id, a 256-bit token hash.
Session numbered_session(int i) {
  char id[40];
  std::snprintf(id, sizeof id, "%08x-%04x-4%03x-8%03x-%012x",
                static_cast<unsigned>(i * 2654435761u), i & 0xffff, (i >> 4) & 0xfff,
                (i >> 8) & 0xfff, static_cast<unsigned>(i));
  Session s;
  s.session_id = id;
  s.status = SessionStatus::awaiting_scan;
  s.created_at = 1'700'000'000;
  s.expires_at = 1'700'001'800 + i;
  s.desktop_token_hash = std::string(64, static_cast<char>('a' + i % 6));
  return s;
}

std::uintmax_t size_of(const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  return ec ? 0 : size;
}

// Polls `done` until it holds or `limit` passes; no fixed sleeps.
template <class F>
bool eventually(F done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// The bound: the WAL is checkpointed from 16 MiB on in the background, by the commit itself at
// 64 MiB (16,384 frames of 4 KiB and their headers); one transaction (a few frames) may go past
// that before the checkpoint.
constexpr std::uintmax_t wal_bound = 65ull * 1024 * 1024;

TEST(SqliteWal, StaysBoundedOverFiftyThousandSessionsBecauseCheckpointsMoveFrames) {
  const auto dir = fresh_dir();
  const auto db = dir / "sessions.db", wal = dir / "sessions.db-wal";
  auto store = std::move(*SqliteSessionStore::open(db));
  std::uintmax_t largest = 0;
  for (int i = 0; i < 50'000; ++i) {
    ASSERT_TRUE(store->save(numbered_session(i)));
    if (i % 500 == 0) largest = std::max(largest, size_of(wal));
  }
  largest = std::max(largest, size_of(wal));
  EXPECT_LE(largest, wal_bound) << "largest WAL seen: " << largest << " bytes";
  // The sessions are in the database file itself, not only in the log.
  EXPECT_GT(size_of(db), 4u * 1024 * 1024);
  const auto stats = store->checkpoint_stats();
  EXPECT_GT(stats.background_runs + stats.inline_runs, 0u);
  // And every one of them reads back.
  for (int i : {0, 1, 24'999, 49'999}) {
    auto got = store->get(numbered_session(i).session_id);
    ASSERT_TRUE(got && got->has_value()) << i;
  }
  // Once the writes stop, the WAL is given back.
  EXPECT_TRUE(eventually([&] { return size_of(wal) == 0; }, std::chrono::seconds(10)))
      << size_of(wal);
}

TEST(SqliteWal, TheBackgroundCheckpointCopiesFramesWithoutAnyCommitCheckpointing) {
  const auto dir = fresh_dir();
  auto store = std::move(*SqliteSessionStore::open(dir / "sessions.db"));
  // Below the inline limit: only the background thread can move these frames.
  for (int i = 0; i < 2'000; ++i) ASSERT_TRUE(store->save(numbered_session(i)));
  EXPECT_TRUE(eventually([&] { return store->checkpoint_stats().background_frames > 0; },
                         std::chrono::seconds(10)))
      << "no background checkpoint copied a frame";
  EXPECT_EQ(store->checkpoint_stats().inline_runs, 0u);
  // Once idle, the WAL is given back: truncated to nothing.
  EXPECT_TRUE(
      eventually([&] { return size_of(dir / "sessions.db-wal") == 0; }, std::chrono::seconds(10)))
      << size_of(dir / "sessions.db-wal");
}

TEST(SqliteWal, AnEmptyDatabaseFileIsRefusedNamingTheFileAndWhatToDo) {
  const auto db = fresh_dir() / "sessions.db";
  std::ofstream(db).close();
  ASSERT_EQ(fs::file_size(db), 0u);
  auto store = SqliteSessionStore::open(db);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().detail.find(db.string()), std::string::npos) << store.error().detail;
  EXPECT_NE(store.error().detail.find("empty"), std::string::npos) << store.error().detail;
  EXPECT_NE(store.error().detail.find("move the file aside"), std::string::npos);
  EXPECT_EQ(fs::file_size(db), 0u) << "the refused file is left as it was";
}

TEST(SqliteWal, AGarbageDatabaseFileIsRefusedNamingTheFile) {
  const auto db = fresh_dir() / "sessions.db";
  std::ofstream(db) << std::string(8192, 'x');
  auto store = SqliteSessionStore::open(db);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().detail.find(db.string()), std::string::npos) << store.error().detail;
  EXPECT_NE(store.error().detail.find("move the file aside"), std::string::npos)
      << store.error().detail;
}

TEST(SqliteWal, AnEmptyFileWhoseWalHoldsTheDataStillOpens) {
  // A crash before the first checkpoint leaves every page in the WAL and the file at 0 bytes.
  const auto dir = fresh_dir();
  const auto db = dir / "sessions.db";
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;"
                         "CREATE TABLE t(x); INSERT INTO t VALUES (1);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  fs::copy_file(db, dir / "copy.db");
  fs::copy_file(dir / "sessions.db-wal", dir / "copy.db-wal");
  sqlite3_close(raw);
  fs::resize_file(dir / "copy.db", 0);
  ASSERT_GT(fs::file_size(dir / "copy.db-wal"), 0u);
  auto store = SqliteSessionStore::open(dir / "copy.db");
  EXPECT_TRUE(store) << store.error().detail;
}

}  // namespace
}  // namespace qr::local
