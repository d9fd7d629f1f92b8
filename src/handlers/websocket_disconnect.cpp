// The spec's handlers/websocket_disconnect.py: always 200, the connection is gone either way.
#include "handlers/handlers.hpp"

namespace qr::handlers {

Response websocket_disconnect(const WebSocketEvent& event, Context& ctx) {
  const Response ok{200, {{"message", "Disconnected"}}};
  if (event.connection_id.empty()) return ok;
  auto found = ctx.sessions.find_by_connection(event.connection_id);
  if (!found) {
    ctx.log.warn("looking up connection failed",
                 {{"connectionId", event.connection_id}, {"error", found.error().detail}});
    return ok;
  }
  if (!*found) return ok;

  SessionUpdate clear;
  clear.ws_connection_id = std::optional<std::string>{};
  clear.ws_token_bound = false;
  UpdateCondition condition;
  // Only if it is still this connection: a newer one may have replaced it since the lookup.
  condition.connection_is = event.connection_id;
  auto cleared = ctx.sessions.update((*found)->session_id, clear, condition);
  if (!cleared && cleared.error().code != ErrorCode::condition_failed &&
      cleared.error().code != ErrorCode::not_found)
    ctx.log.warn("clearing connection failed",
                 {{"connectionId", event.connection_id}, {"error", cleared.error().detail}});
  else
    ctx.log.info("connection closed",
                 {{"sessionId", (*found)->session_id}, {"connectionId", event.connection_id}});
  return ok;
}

}  // namespace qr::handlers
