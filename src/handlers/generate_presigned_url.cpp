// The spec's handlers/generate_presigned_url.py, with multi-photo sessions: every call issues a
// slot (a signed URL the session will count once), and the first phone to ask claims the session.
#include <boost/json/serialize.hpp>

#include <charconv>

#include "core/file_name.hpp"
#include "core/image_type.hpp"
#include "core/s3_key.hpp"
#include "core/validators.hpp"
#include "crypto/crypto.hpp"
#include "handlers/handlers.hpp"

namespace qr::handlers {
namespace {

constexpr std::string_view claimed_by_another =
    "This code is already in use by another phone. Scan a new code on the computer.";

// Why the conditional write lost, told from the record as it is now: another phone claimed the
// session, or it ran out of URLs; otherwise it completed meanwhile (the spec's answer).
Response lost_race(Context& ctx, const std::string& session_id,
                   const std::optional<std::string>& expected_uploader) {
  auto now_found = ctx.sessions.get(session_id);
  if (!now_found) return internal_error(ctx, "reading session failed", now_found.error());
  if (!*now_found) return error_response(404, "Session not found");
  const Session& s = **now_found;
  if (s.status != SessionStatus::completed) {
    if (s.uploader_token_hash != expected_uploader) return error_response(403, claimed_by_another);
    if (s.uploads.size() >= max_slots(s.max_uploads))
      return error_response(409, "Too many upload URLs for this session");
  }
  return error_response(400, "Session already completed");
}

}  // namespace

Response generate_presigned_url(const ApiRequest& request, Context& ctx) {
  const auto raw_id = request.query_param("sessionId");
  if (auto bad = validate_session_id(raw_id)) return error_response(bad->status, bad->message);
  const std::string session_id = normalize_uuid(*raw_id);

  // Optional: the exact type the phone will send. Without it the URL signs the spec's image/*.
  std::string content_type(constants::wildcard_image_type);
  std::string_view extension;
  if (auto requested = request.query_param("contentType"); requested && !requested->empty()) {
    const auto type = ctx.settings.allowed_types.find(*requested);
    if (!type) return error_response(400, "Unsupported contentType");
    content_type = type->mime;
    extension = type->extension;
  }

  std::optional<std::uint64_t> content_length;
  if (auto raw_length = request.query_param("contentLength"); raw_length && !raw_length->empty()) {
    std::uint64_t length = 0;
    const auto* end = raw_length->data() + raw_length->size();
    const auto [ptr, ec] = std::from_chars(raw_length->data(), end, length);
    if (ec != std::errc{} || ptr != end || length == 0)
      return error_response(400, "Invalid contentLength");
    if (length > ctx.settings.max_upload_bytes) return error_response(413, "File too large");
    content_length = length;
  }
  const std::string file_name = sanitize_file_name(request.query_param("fileName").value_or(""));

  auto session = ctx.sessions.get(session_id);
  if (!session) return internal_error(ctx, "reading session failed", session.error());
  const std::int64_t now = ctx.clock.now_seconds();
  if (auto bad = validate_session(*session, now, CompletedSessions::rejected))
    return error_response(bad->status, bad->message);
  const Session& current = **session;

  // The phone that claimed the session proves it with its uploader token; anyone else who only
  // saw the QR code can no longer add or swap photos.
  std::optional<std::string> new_uploader_token;
  if (current.uploader_token_hash) {
    const auto auth = request.header("authorization");
    constexpr std::string_view bearer = "Bearer ";
    if (!auth || !auth->starts_with(bearer) ||
        !crypto::constant_time_equal(hash_token(auth->substr(bearer.size())),
                                     *current.uploader_token_hash))
      return error_response(403, claimed_by_another);
  } else {
    new_uploader_token = new_desktop_token(ctx.random);
  }
  if (current.uploads.size() >= max_slots(current.max_uploads))
    return error_response(409, "Too many upload URLs for this session");

  unsigned char nonce[4];
  ctx.random.fill(std::as_writable_bytes(std::span(nonce)));
  const std::string key =
      make_upload_key(session_id, ctx.clock.now_millis(), crypto::hex(nonce), extension);
  auto presigned = ctx.objects.presign_put(
      key, content_type, content_length, std::chrono::seconds(ctx.settings.upload_url_ttl_seconds));
  if (!presigned) return internal_error(ctx, "presigning upload failed", presigned.error());

  SessionUpdate changes;
  changes.status = SessionStatus::upload_requested;
  changes.upload_key = key;
  changes.content_type = content_type;
  changes.put_slot = UploadSlot{key, file_name, content_type, now};
  UpdateCondition condition;
  const auto sources = allowed_sources(SessionStatus::upload_requested);
  condition.status_in.assign(sources.begin(), sources.end());
  condition.slots_fewer_than = max_slots(current.max_uploads);
  condition.uploader_token_hash_is = current.uploader_token_hash;
  if (new_uploader_token) changes.uploader_token_hash = hash_token(*new_uploader_token);
  auto updated = ctx.sessions.update(session_id, changes, condition);
  if (!updated) {
    if (updated.error().code == ErrorCode::condition_failed)
      return lost_race(ctx, session_id, current.uploader_token_hash);
    if (updated.error().code == ErrorCode::not_found)
      return error_response(404, "Session not found");
    return internal_error(ctx, "updating session failed", updated.error());
  }

  ctx.log.info("upload url issued", {{"sessionId", session_id},
                                     {"uploadKey", key},
                                     {"contentType", content_type},
                                     {"slots", updated->uploads.size()}});
  ctx.log.metric("UploadUrlsIssued", 1);
  if (new_uploader_token) {
    ctx.log.info("phone claimed the session", {{"sessionId", session_id}});
    // Actions beyond the spec's two go only to the desktop that presented its token.
    if (updated->ws_token_bound)
      notify_desktop(*updated,
                     boost::json::serialize(
                         action_message(constants::action_phone_connected, session_id, now)),
                     ctx);
  }
  boost::json::object headers;
  for (const auto& [name, value] : presigned->headers) headers[name] = value;
  boost::json::object body{{"uploadUrl", presigned->url},
                           {"uploadKey", key},
                           {"method", presigned->method},
                           {"headers", std::move(headers)},
                           {"expiresIn", ctx.settings.upload_url_ttl_seconds},
                           {"fileName", file_name},
                           {"maxUploads", updated->max_uploads},
                           {"uploadsRemaining", updated->max_uploads - updated->upload_count}};
  if (new_uploader_token) body["uploaderToken"] = *new_uploader_token;
  return Response{200, std::move(body)};
}

}  // namespace qr::handlers
