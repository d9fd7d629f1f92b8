// POST /sessions/{sessionId}/complete: not in the spec; the desktop ends a multi-photo session
// ("Done"). Later uploads to its URLs are refused and deleted.
#include <boost/json/serialize.hpp>

#include "core/validators.hpp"
#include "handlers/handlers.hpp"

namespace qr::handlers {

Response complete_session(const ApiRequest& request, std::string_view raw_id, Context& ctx) {
  if (auto bad = validate_session_id(raw_id)) return error_response(bad->status, bad->message);
  const std::string session_id = normalize_uuid(raw_id);
  auto found = ctx.sessions.get(session_id);
  if (!found) return internal_error(ctx, "reading session failed", found.error());
  if (!*found) return error_response(404, "Session not found");
  const Session& session = **found;

  const auto auth = request.header("authorization");
  constexpr std::string_view bearer = "Bearer ";
  if (!auth || !auth->starts_with(bearer) || !token_matches(session, auth->substr(bearer.size())))
    return error_response(403, "Invalid token");

  auto answer = [&](const Session& s) {
    return Response{200,
                    {{"sessionId", s.session_id},
                     {"status", to_string(s.status)},
                     {"uploadCount", s.upload_count}}};
  };
  // Ending an ended session is what the desktop wanted: the same answer, nothing sent again.
  if (session.status == SessionStatus::completed) return answer(session);
  const std::int64_t now = ctx.clock.now_seconds();
  if (now > session.expires_at) return error_response(400, "Session expired");

  SessionUpdate end;
  end.status = SessionStatus::completed;
  end.completed_at = now;
  UpdateCondition condition;
  const auto sources = allowed_sources(SessionStatus::completed);
  condition.status_in.assign(sources.begin(), sources.end());
  auto updated = ctx.sessions.update(session_id, end, condition);
  if (!updated) {
    if (updated.error().code != ErrorCode::condition_failed)
      return internal_error(ctx, "ending session failed", updated.error());
    // The last photo filled it meanwhile: it is complete either way.
    auto now_found = ctx.sessions.get(session_id);
    if (!now_found || !*now_found)
      return internal_error(
          ctx, "reading session failed",
          now_found ? Error{ErrorCode::not_found, session_id} : now_found.error());
    return answer(**now_found);
  }
  ctx.log.info("session ended by the desktop",
               {{"sessionId", session_id}, {"uploadCount", updated->upload_count}});
  ctx.log.metric("SessionDurationSeconds", static_cast<double>(now - session.created_at),
                 "Seconds");
  auto message = action_message(constants::action_session_completed, session_id, now);
  message["uploadCount"] = updated->upload_count;
  message["reason"] = "ended";
  if (updated->ws_token_bound) notify_desktop(*updated, boost::json::serialize(message), ctx);
  return answer(*updated);
}

}  // namespace qr::handlers
