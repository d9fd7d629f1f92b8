#pragma once
// SessionStore on one SQLite file in WAL mode: sessions survive a restart.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
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
  Result<std::optional<Session>> find_by_short_code(std::string_view code,
                                                    std::int64_t now) override;

  /// Deletes sessions whose expiresAt is before `cutoff` and returns their ids.
  Result<std::vector<std::string>> sweep_expired(std::int64_t cutoff);

  /// The expiresAt of every session still open at `now`, soonest first.
  std::vector<std::int64_t> live_expiries(std::int64_t now);

  /// Clears every connection id: after a restart no WebSocket from before is alive.
  Result<void> clear_connections();

  /// What the checkpoints have done since open: the WAL is bounded only if frames really move.
  struct CheckpointStats {
    std::uint64_t background_runs = 0;    ///< complete checkpoints by the background thread
    std::uint64_t background_frames = 0;  ///< WAL frames they copied into the database
    std::uint64_t inline_runs = 0;        ///< checkpoints a commit ran itself (WAL at its cap)
  };
  CheckpointStats checkpoint_stats() const;

 private:
  SqliteSessionStore(sqlite3* db, sqlite3* checkpoint_db);
  void checkpoint_loop();
  void checkpoint_now(int& previous_log);
  static int on_commit(void* self, sqlite3* db, const char* name, int frames);
  Result<std::optional<Session>> get_locked(std::string_view session_id);
  Result<void> write_locked(const Session& session, bool insert);
  Result<void> add_missing_columns();
  Result<void> load_short_codes();
  void hold_code(const std::string& code, const std::string& session_id, std::int64_t expires_at);
  void forget_codes_lapsed_by(std::int64_t now);
  Result<void> exec(const char* sql);

  std::mutex mutex_;
  sqlite3* db_;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* replace_ = nullptr;
  sqlite3_stmt* select_ = nullptr;
  sqlite3_stmt* by_connection_ = nullptr;

  // Short code -> the live session holding it, and the codes in the order they lapse.
  struct CodeHolder {
    std::string session_id;
    std::int64_t expires_at = 0;
  };
  std::unordered_map<std::string, CodeHolder> codes_;
  std::deque<std::pair<std::int64_t, std::string>> code_expiries_;

  // Checkpoints run on their own connection and thread: a checkpoint fsyncs, and inside a
  // request (SQLite's automatic checkpoint) it stalled every request behind the store's mutex.
  sqlite3* checkpoint_db_;
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wake_;
  bool checkpoint_wanted_ = false;
  std::atomic<std::uint64_t> background_runs_{0}, background_frames_{0}, inline_runs_{0};
  bool stopping_ = false;
  std::thread checkpointer_;
};

}  // namespace qr::local
