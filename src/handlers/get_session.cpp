// GET /sessions/{sessionId}: not in the spec; lets a desktop that reloaded or lost its WebSocket
// catch up with what it missed, and a phone confirm its photo was accepted.
#include "core/validators.hpp"
#include "handlers/handlers.hpp"

namespace qr::handlers {

Response get_session(const ApiRequest& request, std::string_view raw_id, Context& ctx) {
  if (auto bad = validate_session_id(raw_id)) return error_response(bad->status, bad->message);
  const std::string session_id = normalize_uuid(raw_id);
  // The desktop's status poll and the phone's check that its photo was accepted: an answer no
  // write depends on, and one that is polled again, so a read that may lag the latest writes by
  // a moment will do (on DynamoDB it costs half a strong read). A stale answer is only ever
  // behind: a photo not listed yet, a claim not seen yet. A session it does not find may have
  // just been created: read again, strongly, before answering 404.
  auto found = ctx.sessions.get(session_id, Consistency::eventual);
  if (found && !*found) found = ctx.sessions.get(session_id);
  if (!found) return internal_error(ctx, "reading session failed", found.error());
  if (!*found) return error_response(404, "Session not found");
  const Session& session = **found;

  // The desktop proves itself with its token; only then does it get links to the photos.
  bool desktop = false;
  if (auto auth = request.header("authorization")) {
    constexpr std::string_view bearer = "Bearer ";
    if (!auth->starts_with(bearer) || !token_matches(session, auth->substr(bearer.size())))
      return error_response(403, "Invalid token");
    desktop = true;
  }
  const auto link_ttl = std::chrono::seconds(ctx.settings.download_url_ttl_seconds);

  const std::int64_t now = ctx.clock.now_seconds();
  boost::json::object body{{"sessionId", session.session_id},
                           {"status", to_string(session.status)},
                           {"createdAt", session.created_at},
                           {"expiresAt", session.expires_at},
                           {"expired", now > session.expires_at},
                           {"maxUploads", session.max_uploads},
                           {"uploadCount", session.upload_count},
                           {"phoneConnected", session.uploader_token_hash.has_value()},
                           {"shortCode", short_code_of(session.session_id)}};
  if (session.upload_key) body["uploadKey"] = *session.upload_key;
  if (session.completed_at) body["completedAt"] = *session.completed_at;

  std::vector<const UploadSlot*> accepted;
  for (const auto& slot : session.uploads)
    if (slot.completed) accepted.push_back(&slot);
  std::ranges::sort(accepted, {}, [](const UploadSlot* s) { return s->index.value_or(0); });
  boost::json::array uploads;
  for (const UploadSlot* slot : accepted) {
    boost::json::object upload{{"uploadKey", slot->key},
                               {"fileName", slot->file_name},
                               {"contentType", slot->content_type},
                               {"size", slot->size.value_or(0)},
                               {"index", slot->index.value_or(0)},
                               {"completedAt", slot->completed_at.value_or(0)}};
    if (desktop) {
      auto url = ctx.objects.presign_get(slot->key, link_ttl, slot->file_name);
      if (!url) return internal_error(ctx, "presigning download failed", url.error());
      upload["downloadUrl"] = *url;
      if (auto preview = ctx.objects.preview_url(slot->key, link_ttl))
        upload["previewUrl"] = *preview;
    }
    uploads.push_back(std::move(upload));
  }
  body["uploads"] = std::move(uploads);

  // The spec's single-photo session: its one photo at the top level, as before.
  if (desktop && session.status == SessionStatus::completed && session.upload_key) {
    const UploadSlot* slot = find_slot(session, *session.upload_key);
    if (!slot || slot->completed) {
      auto url = ctx.objects.presign_get(*session.upload_key, link_ttl,
                                         slot ? std::string_view(slot->file_name) : "");
      if (!url) return internal_error(ctx, "presigning download failed", url.error());
      body["downloadUrl"] = *url;
      if (session.content_type) body["contentType"] = *session.content_type;
      if (session.upload_size) body["size"] = *session.upload_size;
    }
  }
  return Response{200, std::move(body)};
}

}  // namespace qr::handlers
