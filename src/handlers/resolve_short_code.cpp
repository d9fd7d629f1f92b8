// GET /c/{code}: not in the spec. The typed fallback for a phone that cannot scan: a person types
// the 6 digits the desktop shows (or the short link host/c/483921) instead of an 86-character URL.
#include "core/validators.hpp"
#include "handlers/handlers.hpp"

namespace qr::handlers {

Response resolve_short_code(const ApiRequest& request, std::string_view code, Context& ctx) {
  // Someone typed the short link into a browser: send them to the phone page, which says what is
  // wrong in plain words when the code leads nowhere (it asks this route again, for JSON).
  const auto accept = request.header("accept");
  const bool browser = !ctx.settings.phone_page_url.empty() && accept &&
                       accept->find("text/html") != std::string_view::npos;
  const auto redirect = [&](std::string query) {
    Response r{302, {}};
    r.headers["Location"] = ctx.settings.phone_page_url + query;
    return r;
  };
  if (!is_short_code(code))
    return browser ? redirect("?code=") : error_response(400, "Invalid code");

  auto found = ctx.sessions.find_by_short_code(code, ctx.clock.now_seconds());
  if (!found) return internal_error(ctx, "reading short code failed", found.error());
  // Only a session still waiting for its phone: once a phone has claimed it, the code leads
  // nowhere, so a guessed code cannot join a session in use (the claim would refuse it anyway).
  const Session* session = *found ? &**found : nullptr;
  if (!session || session->status != SessionStatus::awaiting_scan || session->uploader_token_hash) {
    ctx.log.info("short code not found", {{"shortCode", code}});
    ctx.log.metric("ShortCodeMisses", 1);
    return browser ? redirect("?code=" + std::string(code)) : error_response(404, "Code not found");
  }
  ctx.log.info("short code resolved", {{"sessionId", session->session_id}});
  if (browser) return redirect("?sessionId=" + session->session_id);
  return Response{200, {{"sessionId", session->session_id}, {"expiresAt", session->expires_at}}};
}

}  // namespace qr::handlers
