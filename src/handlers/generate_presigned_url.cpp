// The spec's handlers/generate_presigned_url.py.
#include <charconv>

#include "core/image_type.hpp"
#include "core/s3_key.hpp"
#include "core/validators.hpp"
#include "crypto/crypto.hpp"
#include "handlers/handlers.hpp"

namespace qr::handlers {
namespace {}  // namespace

Response generate_presigned_url(const ApiRequest& request, Context& ctx) {
  const auto raw_id = request.query_param("sessionId");
  if (auto bad = validate_session_id(raw_id)) return error_response(bad->status, bad->message);
  const std::string session_id = normalize_uuid(*raw_id);

  // Optional: the exact type the phone will send. Without it the URL signs the spec's image/*.
  std::string content_type(constants::wildcard_image_type);
  std::string_view extension;
  if (auto requested = request.query_param("contentType"); requested && !requested->empty()) {
    const auto type = allowed_image_type(*requested);
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

  auto session = ctx.sessions.get(session_id);
  if (!session) return internal_error(ctx, "reading session failed", session.error());
  const std::int64_t now = ctx.clock.now_seconds();
  if (auto bad = validate_session(*session, now, CompletedSessions::rejected))
    return error_response(bad->status, bad->message);

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
  UpdateCondition condition;
  const auto sources = allowed_sources(SessionStatus::upload_requested);
  condition.status_in.assign(sources.begin(), sources.end());
  auto updated = ctx.sessions.update(session_id, changes, condition);
  if (!updated) {
    // Lost a race: the session completed (or vanished) between our read and this write.
    if (updated.error().code == ErrorCode::condition_failed)
      return error_response(400, "Session already completed");
    if (updated.error().code == ErrorCode::not_found)
      return error_response(404, "Session not found");
    return internal_error(ctx, "updating session failed", updated.error());
  }

  ctx.log.info("upload url issued",
               {{"sessionId", session_id}, {"uploadKey", key}, {"contentType", content_type}});
  ctx.log.metric("UploadUrlsIssued", 1);
  boost::json::object headers;
  for (const auto& [name, value] : presigned->headers) headers[name] = value;
  return Response{200,
                  {{"uploadUrl", presigned->url},
                   {"uploadKey", key},
                   {"method", presigned->method},
                   {"headers", std::move(headers)},
                   {"expiresIn", ctx.settings.upload_url_ttl_seconds}}};
}

}  // namespace qr::handlers
