// The spec's handlers/create_session.py.
#include <boost/json/parse.hpp>

#include "handlers/handlers.hpp"

namespace qr::handlers {

Response create_session(const ApiRequest& request, Context& ctx) {
  // The spec sends no body. One that is sent must at least be a JSON object, so a client that
  // posts garbage hears about it instead of silently getting a session.
  int max_uploads = 1;
  if (request.body && request.body->find_first_not_of(" \t\r\n") != std::string::npos) {
    boost::system::error_code ec;
    const auto body = boost::json::parse(*request.body, ec);
    if (ec) return error_response(400, "Invalid JSON body");
    if (!body.is_object()) return error_response(400, "Request body must be a JSON object");
    if (const auto* wanted = body.get_object().if_contains("maxUploads")) {
      // An integer from 1 to 100; 3.0 is 3, but 2.5, "3", true and null are mistakes.
      boost::system::error_code number_ec;
      const auto n = wanted->is_bool() ? 0 : wanted->to_number<std::int64_t>(number_ec);
      if (number_ec || n < 1 || n > constants::max_uploads_limit)
        return error_response(400, "maxUploads must be an integer from 1 to 100");
      max_uploads = static_cast<int>(n);
    }
  }

  const std::int64_t now = ctx.clock.now_seconds();
  const std::string token = new_desktop_token(ctx.random);
  Session session;
  session.status = SessionStatus::awaiting_scan;
  session.created_at = now;
  session.expires_at = now + ctx.settings.session_ttl_seconds;
  session.desktop_token_hash = hash_token(token);
  session.max_uploads = max_uploads;

  // The store refuses an id whose short code a live session holds (condition_failed): draw
  // another. With the 1,000 open sessions `serve` allows, one draw in 1,000 meets a taken code,
  // so 8 draws all fail about once in 10^24. A UUIDv4 collision (already_exists) is rarer still.
  Result<void> saved;
  for (int attempt = 0; attempt < 8; ++attempt) {
    session.session_id = new_session_id(ctx.random);
    saved = ctx.sessions.save(session);
    if (saved || (saved.error().code != ErrorCode::already_exists &&
                  saved.error().code != ErrorCode::condition_failed))
      break;
  }
  if (!saved) return internal_error(ctx, "saving session failed", saved.error());

  ctx.log.info("session created", {{"sessionId", session.session_id}, {"maxUploads", max_uploads}});
  ctx.log.metric("SessionsCreated", 1);
  return Response{200,
                  {{"sessionId", session.session_id},
                   {"expiresAt", session.expires_at},
                   {"desktopToken", token},
                   {"maxUploads", max_uploads},
                   {"shortCode", short_code_of(session.session_id)}}};
}

}  // namespace qr::handlers
