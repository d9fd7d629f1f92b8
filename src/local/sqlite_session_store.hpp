#pragma once
// SessionStore on one SQLite file in WAL mode: sessions survive a restart.

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ports/session_store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace qr::local {

/// Sessions in SQLite. Thread-safe: one connection, calls serialised by a mutex (SQLite work
/// here is microseconds; a pool would only add lock contention inside SQLite).
class SqliteSessionStore final : public SessionStore {
 public:
  /// Opens (creating if needed) the database at `path`; an error names the path and the reason.
  static Result<std::unique_ptr<SqliteSessionStore>> open(const std::filesystem::path& path);
  ~SqliteSessionStore() override;

  Result<void> save(const Session& session) override;
  Result<std::optional<Session>> get(std::string_view session_id) override;
  Result<Session> update(std::string_view session_id, const SessionUpdate& changes,
                         const UpdateCondition& condition) override;
  Result<std::optional<Session>> find_by_connection(std::string_view connection_id) override;

  /// Deletes sessions whose expiresAt is before `cutoff` and returns their ids.
  Result<std::vector<std::string>> sweep_expired(std::int64_t cutoff);

  /// Clears every connection id: after a restart no WebSocket from before is alive.
  Result<void> clear_connections();

 private:
  SqliteSessionStore(sqlite3* db, sqlite3* checkpoint_db);
  void checkpoint_loop();
  Result<std::optional<Session>> get_locked(std::string_view session_id);
  Result<void> write_locked(const Session& session, bool insert);
  Result<void> exec(const char* sql);

  std::mutex mutex_;
  sqlite3* db_;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* replace_ = nullptr;
  sqlite3_stmt* select_ = nullptr;
  sqlite3_stmt* by_connection_ = nullptr;

  // Checkpoints run on their own connection and thread: a checkpoint fsyncs, and inside a
  // request (SQLite's automatic checkpoint) it stalled every request behind the store's mutex.
  sqlite3* checkpoint_db_;
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wake_;
  bool stopping_ = false;
  std::thread checkpointer_;
};

}  // namespace qr::local
