#pragma once
// The spec's handlers, one source file each (handlers/<name>.cpp), plus GET /sessions/{id}.

#include <boost/json/object.hpp>

#include <cstdint>
#include <span>
#include <string_view>

#include "handlers/context.hpp"
#include "handlers/requests.hpp"

namespace qr::handlers {

/// POST /sessions: a new AWAITING_SCAN session and its one-time desktop token.
Response create_session(const ApiRequest& request, Context& ctx);

/// GET /upload-url: a presigned PUT for one more photo of the session (a slot); moves it to
/// UPLOAD_REQUESTED. The first call claims the session for the phone that made it.
Response generate_presigned_url(const ApiRequest& request, Context& ctx);

/// GET /sessions/{sessionId}: the session's public state, so a desktop can catch up.
Response get_session(const ApiRequest& request, std::string_view session_id, Context& ctx);

/// GET /c/{code}: the session waiting for a scan whose shortCode a person typed. A browser (with
/// a phone page configured) is redirected to the phone page; anything else gets JSON.
Response resolve_short_code(const ApiRequest& request, std::string_view code, Context& ctx);

/// POST /sessions/{sessionId}/complete: the desktop (with its token) ends the session.
Response complete_session(const ApiRequest& request, std::string_view session_id, Context& ctx);

/// $connect: binds the desktop's connection to its session.
Response websocket_connect(const WebSocketEvent& event, Context& ctx);

/// $disconnect: forgets the connection (always 200).
Response websocket_disconnect(const WebSocketEvent& event, Context& ctx);

/// ObjectCreated records: checks each upload, completes its session and tells the desktop.
/// 500 when a record failed on a storage error, or its desktop could not be told (otherwise than
/// on a gone connection), so the event is delivered again.
Response s3_upload_completion(std::span<const S3Record> records, Context& ctx);

// Helpers the handlers share (context.cpp).

/// A fresh UUIDv4 from the CSPRNG.
std::string new_session_id(Random& random);
/// A fresh 256-bit desktop token, base64url.
std::string new_desktop_token(Random& random);
/// Hex SHA-256 of a desktop token, as stored.
std::string hash_token(std::string_view token);
/// True when `token` hashes to the session's stored desktopTokenHash.
bool token_matches(const Session& session, std::string_view token);

/// {"action", "sessionId", "timestamp"}: how every message to the desktop starts.
boost::json::object action_message(std::string_view action, std::string_view session_id,
                                   std::int64_t now);

/// What became of a message to the desktop.
enum class Delivery {
  delivered,      ///< the connection took it
  no_connection,  ///< the session has no connection to send to
  gone,           ///< the connection no longer exists (it has been cleared from the session)
  failed,         ///< the send failed otherwise (logged): the message may never have arrived
};

/// Sends `message` to the session's connection. A gone connection is cleared from the session
/// (only if it is still the same one) and counted; other failures are logged.
Delivery notify_desktop(const Session& session, std::string_view message, Context& ctx);

/// The 500 every handler answers when a port fails; the detail goes to the log only.
Response internal_error(Context& ctx, std::string_view what, const Error& error);

}  // namespace qr::handlers
