// The spec's handlers/websocket_connect.py, with hijack protection by desktop token.
#include "core/validators.hpp"
#include "handlers/handlers.hpp"

namespace qr::handlers {
namespace {

// The router counts every refused $connect (WebSocketConnectFailures), whatever refused it.
Response reject(Context& ctx, int status, std::string_view message) {
  ctx.log.info("connection rejected", {{"status", status}, {"reason", message}});
  return error_response(status, message);
}

}  // namespace

Response websocket_connect(const WebSocketEvent& event, Context& ctx) {
  if (event.connection_id.empty()) return reject(ctx, 400, "connectionId is required");
  const auto raw_id = event.query_param("sessionId");
  if (auto bad = validate_session_id(raw_id)) return reject(ctx, bad->status, bad->message);
  const std::string session_id = normalize_uuid(*raw_id);

  auto found = ctx.sessions.get(session_id);
  if (!found) return internal_error(ctx, "reading session failed", found.error());
  // A completed session still accepts its desktop: a reload after the upload must catch up.
  if (auto bad = validate_session(*found, ctx.clock.now_seconds(), CompletedSessions::allowed))
    return reject(ctx, bad->status, bad->message);

  const auto token = event.query_param("token");
  const bool has_token = token && !token->empty();
  if (has_token && !token_matches(**found, *token)) return reject(ctx, 403, "Invalid token");

  SessionUpdate bind;
  bind.ws_connection_id = event.connection_id;
  bind.ws_token_bound = has_token;
  UpdateCondition condition;
  // Without the token a connection may take a free or tokenless slot, never the desktop's.
  condition.connection_not_token_bound = !has_token;
  auto updated = ctx.sessions.update(session_id, bind, condition);
  if (!updated) {
    if (updated.error().code == ErrorCode::condition_failed) {
      // The spec accepts tokenless connections; this one is accepted but hears nothing.
      ctx.log.warn("tokenless connection not bound: the desktop's connection holds the session",
                   {{"sessionId", session_id}, {"connectionId", event.connection_id}});
      return Response{200, {{"message", "Connected"}}};
    }
    if (updated.error().code == ErrorCode::not_found) return reject(ctx, 404, "Session not found");
    return internal_error(ctx, "binding connection failed", updated.error());
  }
  ctx.log.info("connection bound", {{"sessionId", session_id},
                                    {"connectionId", event.connection_id},
                                    {"tokenBound", has_token}});
  return Response{200, {{"message", "Connected"}}};
}

}  // namespace qr::handlers
