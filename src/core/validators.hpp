#pragma once
// The spec's shared/validators.py: request values and session state, with the spec's messages.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/session.hpp"

namespace qr {

/// A validation failure: the HTTP status the spec's tables give it and the client message.
struct Rejection {
  int status = 400;
  std::string message;
};

/// True for the canonical 8-4-4-4-12 hex form (either case).
bool is_uuid(std::string_view text);

/// Lowercase form of a UUID, so lookups match the ids this service generates.
std::string normalize_uuid(std::string_view uuid);

/// Missing or empty: 400 "sessionId is required"; not a UUID: 404 "Invalid sessionId format".
std::optional<Rejection> validate_session_id(std::optional<std::string_view> session_id);

/// What a request needs of a session besides existing and not being expired.
enum class CompletedSessions { rejected, allowed };

/// Missing: 404 "Session not found"; expired (now > expiresAt): 400 "Session expired";
/// completed (when rejected): 400 "Session already completed".
std::optional<Rejection> validate_session(const std::optional<Session>& session, std::int64_t now,
                                          CompletedSessions completed);

/// Exactly 6 ASCII digits: a shortCode as GET /c/{code} takes it.
bool is_short_code(std::string_view text);

/// A version 4 UUID made from 16 random bytes.
std::string make_uuid4(const unsigned char (&bytes)[16]);

}  // namespace qr
