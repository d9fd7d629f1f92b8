#pragma once
// The session record and the one table of allowed status transitions.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

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
///   UPLOAD_REQUESTED -> COMPLETED         (the issued object arrived and passed the check)
/// COMPLETED is final. AWAITING_SCAN is only ever the initial status.
std::span<const SessionStatus> allowed_sources(SessionStatus to);

/// True when `from -> to` appears in the table above.
bool transition_allowed(SessionStatus from, SessionStatus to);

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

  bool operator==(const Session&) const = default;
};

}  // namespace qr
