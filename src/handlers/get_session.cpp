// GET /sessions/{sessionId}: not in the spec; lets a desktop that reloaded or lost its WebSocket
// catch up with what it missed.
#include "core/validators.hpp"
#include "handlers/handlers.hpp"

namespace qr::handlers {

Response get_session(const ApiRequest& request, std::string_view raw_id, Context& ctx) {
  if (auto bad = validate_session_id(raw_id)) return error_response(bad->status, bad->message);
  const std::string session_id = normalize_uuid(raw_id);
  auto found = ctx.sessions.get(session_id);
  if (!found) return internal_error(ctx, "reading session failed", found.error());
  if (!*found) return error_response(404, "Session not found");
  const Session& session = **found;

  // The desktop proves itself with its token; only then does it get a link to the image.
  bool desktop = false;
  if (auto auth = request.header("authorization")) {
    constexpr std::string_view bearer = "Bearer ";
    if (!auth->starts_with(bearer) || !token_matches(session, auth->substr(bearer.size())))
      return error_response(403, "Invalid token");
    desktop = true;
  }

  const std::int64_t now = ctx.clock.now_seconds();
  boost::json::object body{{"sessionId", session.session_id},
                           {"status", to_string(session.status)},
                           {"createdAt", session.created_at},
                           {"expiresAt", session.expires_at},
                           {"expired", now > session.expires_at}};
  if (session.upload_key) body["uploadKey"] = *session.upload_key;
  if (session.completed_at) body["completedAt"] = *session.completed_at;
  if (desktop && session.status == SessionStatus::completed && session.upload_key) {
    auto url = ctx.objects.presign_get(*session.upload_key,
                                       std::chrono::seconds(ctx.settings.download_url_ttl_seconds));
    if (!url) return internal_error(ctx, "presigning download failed", url.error());
    body["downloadUrl"] = *url;
    if (session.content_type) body["contentType"] = *session.content_type;
    if (session.upload_size) body["size"] = *session.upload_size;
  }
  return Response{200, std::move(body)};
}

}  // namespace qr::handlers
