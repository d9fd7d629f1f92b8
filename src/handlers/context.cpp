#include <boost/json/object.hpp>

#include "core/validators.hpp"
#include "crypto/crypto.hpp"
#include "handlers/handlers.hpp"

namespace qr::handlers {

std::string new_session_id(Random& random) {
  unsigned char bytes[16];
  random.fill(std::as_writable_bytes(std::span(bytes)));
  return make_uuid4(bytes);
}

std::string new_desktop_token(Random& random) {
  unsigned char bytes[32];
  random.fill(std::as_writable_bytes(std::span(bytes)));
  return crypto::base64url(bytes);
}

std::string hash_token(std::string_view token) {
  return crypto::sha256_hex(token);
}

bool token_matches(const Session& session, std::string_view token) {
  if (!session.desktop_token_hash || token.empty()) return false;
  return crypto::constant_time_equal(hash_token(token), *session.desktop_token_hash);
}

boost::json::object action_message(std::string_view action, std::string_view session_id,
                                   std::int64_t now) {
  return {{"action", action}, {"sessionId", session_id}, {"timestamp", now}};
}

Delivery notify_desktop(const Session& session, std::string_view message, Context& ctx) {
  if (!session.ws_connection_id) return Delivery::no_connection;
  const std::string& connection = *session.ws_connection_id;
  auto sent = ctx.notifier.send(connection, message);
  if (sent) return Delivery::delivered;
  if (sent.error().code == ErrorCode::gone) {
    ctx.log.info("connection gone; clearing it",
                 {{"sessionId", session.session_id}, {"connectionId", connection}});
    ctx.log.metric("NotificationsGone", 1);
    SessionUpdate clear;
    clear.ws_connection_id = std::optional<std::string>{};
    clear.ws_token_bound = false;
    UpdateCondition still_same;
    still_same.connection_is = connection;
    if (auto cleared = ctx.sessions.update(session.session_id, clear, still_same);
        !cleared && cleared.error().code != ErrorCode::condition_failed)
      ctx.log.warn("could not clear gone connection",
                   {{"sessionId", session.session_id}, {"error", cleared.error().detail}});
    return Delivery::gone;
  }
  ctx.log.error("notification failed", {{"sessionId", session.session_id},
                                        {"connectionId", connection},
                                        {"errorCode", to_string(sent.error().code)},
                                        {"error", sent.error().detail}});
  ctx.log.metric("NotificationsFailed", 1);
  return Delivery::failed;
}

Response internal_error(Context& ctx, std::string_view what, const Error& error) {
  ctx.log.error(what, {{"errorCode", to_string(error.code)}, {"error", error.detail}});
  return error_response(500, "Internal server error");
}

}  // namespace qr::handlers
