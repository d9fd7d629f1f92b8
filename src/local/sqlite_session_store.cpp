#include "local/sqlite_session_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <thread>

namespace qr::local {
namespace {

// The WAL's bounds. Past `checkpoint_frames` the background thread is woken (besides its tick
// every 500 ms); past `inline_checkpoint_frames` (it cannot keep up) the commit that crossed it
// checkpoints itself. 4 KiB pages: 4,096 frames ~ 16 MiB, so the WAL stays under 64 MiB and a
// checkpoint (two fsyncs) comes a few times a second at most, even at 10,000 sessions a second.
// A restarted WAL keeps its size (cutting it back at every restart and growing it again costs a
// truncate and a block allocation per frame); an idle one is truncated to nothing.
constexpr int checkpoint_frames = 4096;
constexpr int inline_checkpoint_frames = 16384;
constexpr const char* wal_size_limit = "PRAGMA journal_size_limit=67108864";
// The tail the second pass copies with the writer held off: the first pass goes round again
// (a few times at most) while more than this was appended meanwhile.
constexpr int tail_frames = 256;

// What to do about a database file that cannot be used, for the start-up error.
constexpr std::string_view unusable_hint =
    " It is not a usable qr-upload database: stop the server, move the file aside (its "
    "sessions are lost) or restore it from a backup, then start again.";

constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS sessions (
  session_id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  ws_connection_id TEXT,
  upload_key TEXT,
  completed_at INTEGER,
  content_type TEXT,
  desktop_token_hash TEXT,
  ws_token_bound INTEGER NOT NULL DEFAULT 0,
  upload_size INTEGER,
  max_uploads INTEGER NOT NULL DEFAULT 1,
  upload_count INTEGER NOT NULL DEFAULT 0,
  uploads TEXT,
  uploader_token_hash TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_by_connection ON sessions(ws_connection_id)
  WHERE ws_connection_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions(expires_at);
)sql";

constexpr const char* columns =
    "session_id, status, created_at, expires_at, ws_connection_id, upload_key, completed_at, "
    "content_type, desktop_token_hash, ws_token_bound, upload_size, max_uploads, upload_count, "
    "uploads, uploader_token_hash";
constexpr const char* placeholders = "?,?,?,?,?,?,?,?,?,?,?,?,?,?,?";

// Columns added after the first release, for databases created before them (CREATE TABLE IF NOT
// EXISTS leaves an existing table as it is).
constexpr const char* added_columns[][2] = {
    {"max_uploads", "INTEGER NOT NULL DEFAULT 1"},
    {"upload_count", "INTEGER NOT NULL DEFAULT 0"},
    {"uploads", "TEXT"},
    {"uploader_token_hash", "TEXT"},
};

Error sqlite_error(sqlite3* db, std::string_view what) {
  const int code = sqlite3_extended_errcode(db);
  // A busy or locked database is transient: another process holds the file.
  const ErrorCode mapped = (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED
                               ? ErrorCode::unavailable
                               : ErrorCode::internal;
  return Error{mapped, std::string(what) + ": " + sqlite3_errmsg(db)};
}

void bind_text(sqlite3_stmt* st, int i, const std::optional<std::string>& v) {
  if (v)
    sqlite3_bind_text(st, i, v->data(), static_cast<int>(v->size()), SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, i);
}

void bind_int(sqlite3_stmt* st, int i, const std::optional<std::int64_t>& v) {
  if (v)
    sqlite3_bind_int64(st, i, *v);
  else
    sqlite3_bind_null(st, i);
}

std::optional<std::string> column_text(sqlite3_stmt* st, int i) {
  if (sqlite3_column_type(st, i) == SQLITE_NULL) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, i)),
                     static_cast<std::size_t>(sqlite3_column_bytes(st, i)));
}

std::optional<std::int64_t> column_int(sqlite3_stmt* st, int i) {
  if (sqlite3_column_type(st, i) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(st, i);
}

Session read_row(sqlite3_stmt* st) {
  Session s;
  s.session_id = *column_text(st, 0);
  s.status =
      parse_session_status(column_text(st, 1).value_or("")).value_or(SessionStatus::awaiting_scan);
  s.created_at = sqlite3_column_int64(st, 2);
  s.expires_at = sqlite3_column_int64(st, 3);
  s.ws_connection_id = column_text(st, 4);
  s.upload_key = column_text(st, 5);
  s.completed_at = column_int(st, 6);
  s.content_type = column_text(st, 7);
  s.desktop_token_hash = column_text(st, 8);
  s.ws_token_bound = sqlite3_column_int(st, 9) != 0;
  s.upload_size = column_int(st, 10);
  s.max_uploads = static_cast<int>(sqlite3_column_int64(st, 11));
  s.upload_count = static_cast<int>(sqlite3_column_int64(st, 12));
  if (auto uploads = column_text(st, 13)) s.uploads = decode_upload_slots(*uploads);
  s.uploader_token_hash = column_text(st, 14);
  return s;
}

// Resets a statement when the scope ends, whatever path leaves it.
struct StatementReset {
  sqlite3_stmt* st;
  ~StatementReset() {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
};

}  // namespace

Result<std::unique_ptr<SqliteSessionStore>> SqliteSessionStore::open(
    const std::filesystem::path& path) {
  // SQLite takes an empty file for a new database, and would silently serve an empty store in
  // place of a damaged one (truncated by a full disk, or by hand). A new file is made only where
  // there is none. Its WAL may hold every page (a crash before the first checkpoint): then the
  // file is fine.
  if (struct stat st{}; ::stat(path.c_str(), &st) == 0 && st.st_size == 0) {
    struct stat wal {};
    const std::string wal_path = path.string() + "-wal";
    if (::stat(wal_path.c_str(), &wal) != 0 || wal.st_size == 0)
      return fail(ErrorCode::internal,
                  "cannot open " + path.string() + ": the file is empty (0 bytes)." +
                      std::string(unusable_hint) +
                      " If it was never used, delete it and a new database is made.");
  }
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return fail(ErrorCode::internal, "cannot open " + path.string() + ": " + message);
  }
  // WAL with synchronous=NORMAL: a commit is durable against a crash of this process, and the
  // database stays consistent across power loss (the last commits may then be lost).
  // No automatic checkpoints on the serving connection: a background thread does them.
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=5000",
        "PRAGMA wal_autocheckpoint=0", wal_size_limit}) {
    if (sqlite3_exec(db, pragma, nullptr, nullptr, nullptr) != SQLITE_OK) {
      Error e = sqlite_error(db, pragma);
      sqlite3_close(db);
      e.detail =
          "cannot open " + path.string() + ": " + e.detail + "." + std::string(unusable_hint);
      return std::unexpected(std::move(e));
    }
  }
  // A damaged file can still open and take the pragmas; quick_check reads every page.
  {
    sqlite3_stmt* check = nullptr;
    std::string verdict;
    if (sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &check, nullptr) == SQLITE_OK &&
        sqlite3_step(check) == SQLITE_ROW)
      verdict = reinterpret_cast<const char*>(sqlite3_column_text(check, 0));
    else
      verdict = sqlite3_errmsg(db);
    sqlite3_finalize(check);
    if (verdict != "ok") {
      sqlite3_close(db);
      return fail(ErrorCode::internal, "cannot open " + path.string() + ": damaged (" + verdict +
                                           ")." + std::string(unusable_hint));
    }
  }
  sqlite3* checkpoint_db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &checkpoint_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    Error e = sqlite_error(checkpoint_db, "open checkpoint connection");
    sqlite3_close(checkpoint_db);
    sqlite3_close(db);
    return std::unexpected(std::move(e));
  }
  sqlite3_busy_timeout(checkpoint_db, 5000);
  std::unique_ptr<SqliteSessionStore> store(new SqliteSessionStore(db, checkpoint_db));
  if (auto r = store->exec(schema); !r) return std::unexpected(r.error());
  if (auto r = store->add_missing_columns(); !r) return std::unexpected(r.error());
  if (auto r = store->load_short_codes(); !r) return std::unexpected(r.error());
  // A connection checkpoints only a WAL it has opened, and it opens it on its first read: until
  // then its wal_checkpoint does nothing and reports nothing.
  if (sqlite3_exec(checkpoint_db, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr,
                   nullptr) != SQLITE_OK)
    return std::unexpected(sqlite_error(checkpoint_db, "read through the checkpoint connection"));
  sqlite3_wal_hook(db, &SqliteSessionStore::on_commit, store.get());

  const std::string insert_sql =
      std::string("INSERT INTO sessions (") + columns + ") VALUES (" + placeholders + ")";
  const std::string replace_sql =
      std::string("REPLACE INTO sessions (") + columns + ") VALUES (" + placeholders + ")";
  const std::string select_sql =
      std::string("SELECT ") + columns + " FROM sessions WHERE session_id = ?";
  const std::string by_conn_sql =
      std::string("SELECT ") + columns + " FROM sessions WHERE ws_connection_id = ? LIMIT 1";
  for (auto [sql, stmt] : {std::pair{&insert_sql, &store->insert_},
                           {&replace_sql, &store->replace_},
                           {&select_sql, &store->select_},
                           {&by_conn_sql, &store->by_connection_}})
    if (sqlite3_prepare_v3(db, sql->c_str(), -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr) !=
        SQLITE_OK)
      return std::unexpected(sqlite_error(db, "prepare"));
  return store;
}

SqliteSessionStore::SqliteSessionStore(sqlite3* db, sqlite3* checkpoint_db)
    : db_(db), checkpoint_db_(checkpoint_db), checkpointer_([this] { checkpoint_loop(); }) {}

SqliteSessionStore::~SqliteSessionStore() {
  {
    std::lock_guard lock(checkpoint_mutex_);
    stopping_ = true;
  }
  checkpoint_wake_.notify_all();
  checkpointer_.join();
  for (sqlite3_stmt* st : {insert_, replace_, select_, by_connection_}) sqlite3_finalize(st);
  // A last full checkpoint so the next start finds a short WAL.
  sqlite3_wal_checkpoint_v2(checkpoint_db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  sqlite3_close(checkpoint_db_);
  sqlite3_close(db_);
}

void SqliteSessionStore::checkpoint_loop() {
  int previous_log = -1;
  std::unique_lock lock(checkpoint_mutex_);
  while (!stopping_) {
    checkpoint_wake_.wait_for(lock, std::chrono::milliseconds(500),
                              [this] { return stopping_ || checkpoint_wanted_; });
    if (stopping_) break;
    checkpoint_wanted_ = false;
    lock.unlock();
    checkpoint_now(previous_log);
    lock.lock();
  }
}

// Two passes. The first copies the WAL into the database without blocking anyone (PASSIVE), but
// the writer keeps appending meanwhile, so under steady load it never ends with nothing left, and
// SQLite restarts a WAL from its beginning only when every frame is in the database. The second
// pass holds the writer off (the store's mutex) while it copies the short tail added during the
// first: then the WAL is complete and the next commit starts it over from its beginning. A WAL
// that saw no commit since the last round is truncated to nothing.
void SqliteSessionStore::checkpoint_now(int& previous_log) {
  int log = 0, copied = 0;
  for (int round = 0; round < 4; ++round) {
    if (sqlite3_wal_checkpoint_v2(checkpoint_db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log,
                                  &copied) != SQLITE_OK ||
        log <= 0)
      return;
    if (log - copied <= tail_frames) break;
  }
  std::lock_guard writer(mutex_);
  if (sqlite3_wal_checkpoint_v2(checkpoint_db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log,
                                &copied) != SQLITE_OK ||
      log <= 0 || copied < log)
    return;
  if (log == previous_log) {
    // Idle since the last round: everything is in the database, so give the disk back.
    sqlite3_wal_checkpoint_v2(checkpoint_db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                              nullptr);
  } else {
    background_runs_.fetch_add(1, std::memory_order_relaxed);
    background_frames_.fetch_add(static_cast<std::uint64_t>(copied), std::memory_order_relaxed);
  }
  previous_log = log;
}

// After every commit on the serving connection (which holds the store's mutex): wakes the
// background thread once the WAL is long; checkpoints right here if it has fallen far behind
// (the background thread's second pass waits for the mutex, so it cannot be what this waits on).
int SqliteSessionStore::on_commit(void* self, sqlite3* db, const char*, int frames) {
  auto* store = static_cast<SqliteSessionStore*>(self);
  if (frames >= inline_checkpoint_frames) {
    // SQLite answers BUSY at once, without the busy handler, while the background thread's
    // first pass holds the checkpoint lock; that pass needs nothing this thread holds, so waiting
    // for it ends. RESTART then copies everything and waits until the next commit can start the
    // WAL over: the cap holds however slow the disk.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr) ==
               SQLITE_BUSY &&
           std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    store->inline_runs_.fetch_add(1, std::memory_order_relaxed);
  } else if (frames >= checkpoint_frames) {
    {
      std::lock_guard lock(store->checkpoint_mutex_);
      if (store->checkpoint_wanted_) return SQLITE_OK;
      store->checkpoint_wanted_ = true;
    }
    store->checkpoint_wake_.notify_one();
  }
  return SQLITE_OK;
}

SqliteSessionStore::CheckpointStats SqliteSessionStore::checkpoint_stats() const {
  return {background_runs_.load(), background_frames_.load(), inline_runs_.load()};
}

Result<void> SqliteSessionStore::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string detail = std::string(sql).substr(0, 40) + ": " + (message ? message : "");
    sqlite3_free(message);
    return fail(ErrorCode::internal, detail);
  }
  return {};
}

Result<void> SqliteSessionStore::add_missing_columns() {
  for (const auto& [name, type] : added_columns) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT 1 FROM pragma_table_info('sessions') WHERE name = ?", -1,
                           &st, nullptr) != SQLITE_OK)
      return std::unexpected(sqlite_error(db_, "read table info"));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    const bool present = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (present) continue;
    const std::string sql = std::string("ALTER TABLE sessions ADD COLUMN ") + name + " " + type;
    if (auto r = exec(sql.c_str()); !r) return r;
  }
  return {};
}

Result<void> SqliteSessionStore::write_locked(const Session& s, bool insert) {
  sqlite3_stmt* st = insert ? insert_ : replace_;
  StatementReset reset{st};
  sqlite3_bind_text(st, 1, s.session_id.data(), static_cast<int>(s.session_id.size()),
                    SQLITE_TRANSIENT);
  const auto status = to_string(s.status);
  sqlite3_bind_text(st, 2, status.data(), static_cast<int>(status.size()), SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, s.created_at);
  sqlite3_bind_int64(st, 4, s.expires_at);
  bind_text(st, 5, s.ws_connection_id);
  bind_text(st, 6, s.upload_key);
  bind_int(st, 7, s.completed_at);
  bind_text(st, 8, s.content_type);
  bind_text(st, 9, s.desktop_token_hash);
  sqlite3_bind_int(st, 10, s.ws_token_bound ? 1 : 0);
  bind_int(st, 11, s.upload_size);
  sqlite3_bind_int64(st, 12, s.max_uploads);
  sqlite3_bind_int64(st, 13, s.upload_count);
  bind_text(st, 14,
            s.uploads.empty() ? std::nullopt
                              : std::optional<std::string>(encode_upload_slots(s.uploads)));
  bind_text(st, 15, s.uploader_token_hash);
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || (rc == SQLITE_CONSTRAINT && insert))
    return fail(ErrorCode::already_exists, s.session_id);
  if (rc != SQLITE_DONE) return std::unexpected(sqlite_error(db_, "write session"));
  return {};
}

// Short codes are kept unique here, under the store's mutex that every write of this process
// holds, rather than by an index: an index on a random key costs each insert one more page in the
// WAL (measured: 11,400 -> 7,600 sessions/s). The codes of live sessions are read at open.
Result<void> SqliteSessionStore::load_short_codes() {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "SELECT session_id, expires_at FROM sessions "
                         "WHERE expires_at > CAST(strftime('%s', 'now') AS INTEGER) "
                         "ORDER BY expires_at",
                         -1, &st, nullptr) != SQLITE_OK)
    return std::unexpected(sqlite_error(db_, "prepare short codes"));
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const std::string id = *column_text(st, 0);
    hold_code(short_code_of(id), id, sqlite3_column_int64(st, 1));
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return std::unexpected(sqlite_error(db_, "read short codes"));
  return {};
}

void SqliteSessionStore::hold_code(const std::string& code, const std::string& session_id,
                                   std::int64_t expires_at) {
  code_expiries_.emplace_back(expires_at, code);
  codes_[code] = CodeHolder{session_id, expires_at};
}

// Sessions expire in the order they were made (one TTL per server), so the front of the queue is
// the next code to lapse; a code taken over since by a newer session stays with it.
void SqliteSessionStore::forget_codes_lapsed_by(std::int64_t now) {
  while (!code_expiries_.empty() && code_expiries_.front().first <= now) {
    auto holder = codes_.find(code_expiries_.front().second);
    if (holder != codes_.end() && holder->second.expires_at <= now) codes_.erase(holder);
    code_expiries_.pop_front();
  }
}

Result<void> SqliteSessionStore::save(const Session& session) {
  std::lock_guard lock(mutex_);
  forget_codes_lapsed_by(session.created_at);
  const std::string code = short_code_of(session.session_id);
  if (auto holder = codes_.find(code); holder != codes_.end() &&
                                       holder->second.session_id != session.session_id &&
                                       holder->second.expires_at > session.created_at)
    return fail(ErrorCode::condition_failed,
                "short code " + code + " taken: " + session.session_id);
  if (auto written = write_locked(session, true); !written) return written;
  hold_code(code, session.session_id, session.expires_at);
  return {};
}

Result<std::optional<Session>> SqliteSessionStore::get_locked(std::string_view session_id) {
  StatementReset reset{select_};
  sqlite3_bind_text(select_, 1, session_id.data(), static_cast<int>(session_id.size()),
                    SQLITE_TRANSIENT);
  const int rc = sqlite3_step(select_);
  if (rc == SQLITE_ROW) return std::optional<Session>{read_row(select_)};
  if (rc == SQLITE_DONE) return std::optional<Session>{};
  return std::unexpected(sqlite_error(db_, "read session"));
}

Result<std::optional<Session>> SqliteSessionStore::get(std::string_view session_id) {
  std::lock_guard lock(mutex_);
  return get_locked(session_id);
}

Result<Session> SqliteSessionStore::update(std::string_view session_id,
                                           const SessionUpdate& changes,
                                           const UpdateCondition& condition) {
  std::lock_guard lock(mutex_);
  // Read, check and write under one IMMEDIATE transaction: the write lock is taken first, so no
  // other connection (another process on the same file) can change the row in between.
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return std::unexpected(r.error());
  auto rollback = [this](Error e) -> Result<Session> {
    exec("ROLLBACK");
    return std::unexpected(std::move(e));
  };
  auto current = get_locked(session_id);
  if (!current) return rollback(current.error());
  if (!*current) return rollback(Error{ErrorCode::not_found, std::string(session_id)});
  Session session = std::move(**current);
  if (!condition_holds(session, condition))
    return rollback(Error{ErrorCode::condition_failed, std::string(session_id)});
  apply_update(session, changes);
  if (auto w = write_locked(session, false); !w) return rollback(w.error());
  if (auto r = exec("COMMIT"); !r) return rollback(r.error());
  return session;
}

Result<std::optional<Session>> SqliteSessionStore::find_by_connection(
    std::string_view connection_id) {
  std::lock_guard lock(mutex_);
  StatementReset reset{by_connection_};
  sqlite3_bind_text(by_connection_, 1, connection_id.data(), static_cast<int>(connection_id.size()),
                    SQLITE_TRANSIENT);
  const int rc = sqlite3_step(by_connection_);
  if (rc == SQLITE_ROW) return std::optional<Session>{read_row(by_connection_)};
  if (rc == SQLITE_DONE) return std::optional<Session>{};
  return std::unexpected(sqlite_error(db_, "find by connection"));
}

Result<std::optional<Session>> SqliteSessionStore::find_by_short_code(std::string_view code,
                                                                      std::int64_t now) {
  std::lock_guard lock(mutex_);
  const auto holder = codes_.find(std::string(code));
  if (holder == codes_.end() || holder->second.expires_at <= now) return std::optional<Session>{};
  auto session = get_locked(holder->second.session_id);
  if (session && *session && (*session)->expires_at <= now) return std::optional<Session>{};
  return session;
}

Result<std::vector<std::string>> SqliteSessionStore::sweep_expired(std::int64_t cutoff) {
  std::lock_guard lock(mutex_);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "DELETE FROM sessions WHERE expires_at < ? RETURNING session_id", -1,
                         &st, nullptr) != SQLITE_OK)
    return std::unexpected(sqlite_error(db_, "prepare sweep"));
  sqlite3_bind_int64(st, 1, cutoff);
  std::vector<std::string> ids;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) ids.push_back(*column_text(st, 0));
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return std::unexpected(sqlite_error(db_, "sweep"));
  return ids;
}

// Every live session holds its short code, so the codes' queue already lists their expiries in
// order: no query.
std::vector<std::int64_t> SqliteSessionStore::live_expiries(std::int64_t now) {
  std::lock_guard lock(mutex_);
  forget_codes_lapsed_by(now);
  std::vector<std::int64_t> expiries;
  expiries.reserve(code_expiries_.size());
  for (const auto& [expires_at, code] : code_expiries_)
    if (expires_at > now) expiries.push_back(expires_at);
  return expiries;
}

Result<void> SqliteSessionStore::clear_connections() {
  std::lock_guard lock(mutex_);
  return exec(
      "UPDATE sessions SET ws_connection_id = NULL, ws_token_bound = 0 "
      "WHERE ws_connection_id IS NOT NULL");
}

}  // namespace qr::local
