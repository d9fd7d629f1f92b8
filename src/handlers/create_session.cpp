// The spec's handlers/create_session.py.
#include <boost/json/parse.hpp>

#include "handlers/handlers.hpp"

namespace qr::handlers {

Response create_session(const ApiRequest& request, Context& ctx) {
  // The spec sends no body. One that is sent must at least be a JSON object, so a client that
  // posts garbage hears about it instead of silently getting a session.
  if (request.body && request.body->find_first_not_of(" \t\r\n") != std::string::npos) {
    boost::system::error_code ec;
    const auto body = boost::json::parse(*request.body, ec);
    if (ec) return error_response(400, "Invalid JSON body");
    if (!body.is_object()) return error_response(400, "Request body must be a JSON object");
  }

  const std::int64_t now = ctx.clock.now_seconds();
  const std::string token = new_desktop_token(ctx.random);
  Session session;
  session.status = SessionStatus::awaiting_scan;
  session.created_at = now;
  session.expires_at = now + ctx.settings.session_ttl_seconds;
  session.desktop_token_hash = hash_token(token);

  // A UUIDv4 collision is next to impossible; one retry turns "next to" into "never seen".
  Result<void> saved;
  for (int attempt = 0; attempt < 2; ++attempt) {
    session.session_id = new_session_id(ctx.random);
    saved = ctx.sessions.save(session);
    if (saved || saved.error().code != ErrorCode::already_exists) break;
  }
  if (!saved) return internal_error(ctx, "saving session failed", saved.error());

  ctx.log.info("session created", {{"sessionId", session.session_id}});
  ctx.log.metric("SessionsCreated", 1);
  return Response{200,
                  {{"sessionId", session.session_id},
                   {"expiresAt", session.expires_at},
                   {"desktopToken", token}}};
}

}  // namespace qr::handlers
