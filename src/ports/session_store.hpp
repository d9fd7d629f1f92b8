#pragma once
// Port: where sessions live (DynamoDB on AWS, SQLite locally, a map in tests).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/session.hpp"

namespace qr {

/// How fresh a read must be.
enum class Consistency {
  strong,    ///< reflects every write that succeeded before the read
  eventual,  ///< may miss the writes of the last moments (DynamoDB: usually under a second)
};

/// A set of attribute changes. Each engaged member is written; the rest are left alone.
struct SessionUpdate {
  std::optional<SessionStatus> status;
  std::optional<std::string> upload_key;
  std::optional<std::string> content_type;
  std::optional<std::int64_t> completed_at;
  std::optional<std::int64_t> upload_size;
  /// Engaged with a value: set the connection; engaged with nullopt: remove it.
  std::optional<std::optional<std::string>> ws_connection_id;
  std::optional<bool> ws_token_bound;
  std::optional<int> upload_count;
  /// Adds the slot, or replaces the slot with the same key.
  std::optional<UploadSlot> put_slot;
  std::optional<std::string> uploader_token_hash;
};

/// What must hold of the stored record for an update to apply, atomically with the write.
struct UpdateCondition {
  /// The current status must be one of these (empty: any status).
  std::vector<SessionStatus> status_in;
  /// When engaged: the current wsConnectionId must equal this (nullopt: must be absent).
  std::optional<std::optional<std::string>> connection_is;
  /// When engaged: the current uploadKey must equal this.
  std::optional<std::string> upload_key_is;
  /// The current connection must not be token-bound (a tokenless connect cannot displace it).
  bool connection_not_token_bound = false;
  /// When engaged: the current uploadCount must equal this (compare-and-set of the count).
  std::optional<int> upload_count_is;
  /// When engaged: a slot with this key must exist and not have counted yet.
  std::optional<std::string> slot_open;
  /// When engaged: the session must have fewer slots than this.
  std::optional<std::size_t> slots_fewer_than;
  /// When engaged: the current uploaderTokenHash must equal this (nullopt: must be absent).
  std::optional<std::optional<std::string>> uploader_token_hash_is;
  /// A slot whose photo counted but whose desktop was never told, with no invocation telling it.
  struct SlotUntold {
    std::string key;   ///< the slot's uploadKey
    std::int64_t now;  ///< epoch seconds: a notifyingUntil before this has lapsed
  };
  /// When engaged: the slot exists and counted, has no notifiedAt, and its notifyingUntil is
  /// absent or earlier than `now` (whoever writes this takes over the telling).
  std::optional<SlotUntold> slot_untold;
};

/// Storage of session records with conditional writes.
class SessionStore {
 public:
  virtual ~SessionStore() = default;

  /// Stores a new session; already_exists if the id is taken, condition_failed if a live session
  /// (one whose expiresAt is after this one's createdAt) has the same short_code_of() its id.
  virtual Result<void> save(const Session& session) = 0;

  /// The session with this id, or nullopt if there is none. Strongly consistent: whatever a
  /// handler reads before a conditional write, or must not miss, is read this way.
  virtual Result<std::optional<Session>> get(std::string_view session_id) = 0;

  /// The same read at the consistency asked for. Consistency::eventual is for answers no write
  /// depends on (GET /sessions/{id}): it may miss the latest writes, and costs DynamoDB half a
  /// strong read. A store whose every read is strong (SQLite, the fake) keeps this default.
  virtual Result<std::optional<Session>> get(std::string_view session_id, Consistency consistency) {
    (void)consistency;
    return get(session_id);
  }

  /// Applies `changes` if the session exists and `condition` holds; returns the new record.
  /// not_found if there is no such session, condition_failed if the condition does not hold.
  virtual Result<Session> update(std::string_view session_id, const SessionUpdate& changes,
                                 const UpdateCondition& condition) = 0;

  /// The session whose short_code_of() is `code` and whose expiresAt is after `now`, or nullopt.
  /// Strongly consistent: a phone types the code a moment after the desktop made it.
  virtual Result<std::optional<Session>> find_by_short_code(std::string_view code,
                                                            std::int64_t now) = 0;

  /// The session whose wsConnectionId is this connection, or nullopt.
  virtual Result<std::optional<Session>> find_by_connection(std::string_view connection_id) = 0;
};

}  // namespace qr

namespace qr {

/// True when `current` satisfies `condition`. Stores without native conditional writes
/// (the in-memory fake, SQLite inside a transaction) evaluate conditions with this.
bool condition_holds(const Session& current, const UpdateCondition& condition);

/// Applies `changes` to `session` in place.
void apply_update(Session& session, const SessionUpdate& changes);

}  // namespace qr
