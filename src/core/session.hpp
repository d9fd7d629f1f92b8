#pragma once
// The session record and the one table of allowed status transitions.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qr {

/// Where a session is in its life. Names and values are the spec's SESSION_STATUS.
enum class SessionStatus { awaiting_scan, upload_requested, completed };

/// "AWAITING_SCAN", "UPLOAD_REQUESTED" or "COMPLETED".
std::string_view to_string(SessionStatus status);
/// Inverse of to_string; nullopt for anything else.
std::optional<SessionStatus> parse_session_status(std::string_view text);

/// The statuses a session may be in for a change to `to` to be allowed.
/// This is the only place the state machine is written down:
///   AWAITING_SCAN    -> UPLOAD_REQUESTED  (phone asked for an upload URL)
///   UPLOAD_REQUESTED -> UPLOAD_REQUESTED  (phone retried; a fresh URL replaces the old one)
///   UPLOAD_REQUESTED -> COMPLETED         (the session's last photo arrived and passed the
///                                          check, or the desktop ended it)
///   AWAITING_SCAN    -> COMPLETED         (the desktop ended it before any photo)
/// COMPLETED is final. AWAITING_SCAN is only ever the initial status. A photo that is not the
/// session's last leaves it UPLOAD_REQUESTED (its slot and uploadCount record it).
std::span<const SessionStatus> allowed_sources(SessionStatus to);

/// True when `from -> to` appears in the table above.
bool transition_allowed(SessionStatus from, SessionStatus to);

/// One issued upload URL of a session (a slot) and, once it counted, the photo that filled it.
/// A session keeps its slots in its own record (a bounded list: at most max_slots(max_uploads)),
/// so completing one is a single conditional write that keeps the count honest.
struct UploadSlot {
  std::string key;                           ///< uploadKey the URL was signed for
  std::string file_name;                     ///< fileName: the original's name, sanitised
  std::string content_type;                  ///< the type signed into the URL (may be image/*)
  std::int64_t issued_at = 0;                ///< issuedAt, epoch seconds
  bool completed = false;                    ///< the photo arrived, passed the check and counted
  std::optional<std::int64_t> size;          ///< size of the accepted photo, bytes
  std::optional<std::int64_t> completed_at;  ///< completedAt, epoch seconds
  std::optional<int> index;                  ///< order of acceptance in the session, from 1
  /// notifiedAt, epoch seconds: UPLOAD_COMPLETED for this photo reached the desktop's connection.
  /// Absent on a counted slot: not delivered (no connection, a gone one, or a failed send).
  std::optional<std::int64_t> notified_at;
  /// notifyingUntil, epoch seconds: an invocation is telling the desktop about this photo (set by
  /// the write that counts it, or by a redelivery that resends it); until then no other delivery
  /// of the event sends it again. See s3_upload_completion.cpp.
  std::optional<std::int64_t> notifying_until;

  bool operator==(const UploadSlot&) const = default;
};

/// One upload session. Field names in storage and JSON follow the spec (camelCase).
struct Session {
  std::string session_id;                               ///< sessionId: a lowercase UUIDv4
  SessionStatus status = SessionStatus::awaiting_scan;  ///< status
  std::int64_t created_at = 0;                          ///< createdAt, epoch seconds
  std::int64_t expires_at = 0;                          ///< expiresAt, epoch seconds (also the TTL)
  std::optional<std::string> ws_connection_id;          ///< wsConnectionId: absent when none
  std::optional<std::string> upload_key;                ///< uploadKey: the key issued to the phone
  std::optional<std::int64_t> completed_at;             ///< completedAt, epoch seconds
  std::optional<std::string> content_type;              ///< contentType signed into the upload URL
  std::optional<std::string> desktop_token_hash;  ///< desktopTokenHash: hex SHA-256 of the token
  bool ws_token_bound = false;  ///< wsTokenBound: the connection presented the desktop token
  std::optional<std::int64_t> upload_size;  ///< uploadSize of the accepted object, bytes
  int max_uploads = 1;   ///< maxUploads: photos the session takes (1: the spec's session)
  int upload_count = 0;  ///< uploadCount: photos accepted so far
  std::vector<UploadSlot> uploads;  ///< uploads: every issued slot, in the order issued
  /// uploaderTokenHash: hex SHA-256 of the token of the phone that claimed the session.
  std::optional<std::string> uploader_token_hash;

  bool operator==(const Session&) const = default;
};

/// shortCode: the 6 digits a person can type instead of scanning (GET /c/{code}). The session
/// id's first 32 bits modulo 1,000,000, zero-padded, so a page can show it from the id alone; the
/// stores keep it unique among live sessions (create_session draws another id when it is taken).
std::string short_code_of(std::string_view session_id);

/// The slot issued for `key`, or nullptr.
const UploadSlot* find_slot(const Session& session, std::string_view key);

/// How many upload URLs a session with room for `max_uploads` photos may be issued: room for
/// retries of failed uploads, but bounded, so the record stays small.
std::size_t max_slots(int max_uploads);

/// The slots as the JSON array SQLite stores ([{"key", "fileName", ...}]).
std::string encode_upload_slots(std::span<const UploadSlot> slots);
/// Inverse of encode_upload_slots; entries that are not slots are skipped.
std::vector<UploadSlot> decode_upload_slots(std::string_view json);

}  // namespace qr
