// The spec's handlers/s3_upload_completion.py, for every record, at least once and in any order.
#include <boost/json/serialize.hpp>

#include "core/image_type.hpp"
#include "core/s3_key.hpp"
#include "handlers/handlers.hpp"

namespace qr::handlers {
namespace {

enum class Outcome { completed, duplicate, ignored, rejected, failed };

Outcome ignore(Context& ctx, std::string_view why, const S3Record& record) {
  ctx.log.info("s3 record ignored",
               {{"reason", why}, {"key", record.raw_key}, {"eventName", record.event_name}});
  return Outcome::ignored;
}

Outcome fail_record(Context& ctx, std::string_view what, const Error& error, std::string_view key) {
  ctx.log.error(what,
                {{"key", key}, {"errorCode", to_string(error.code)}, {"error", error.detail}});
  return Outcome::failed;
}

// Deletes an upload that failed the check and tells the desktop; the session stays open.
Outcome reject_upload(const Session& session, const std::string& key, std::string_view reason,
                      Context& ctx, boost::json::array& rejections) {
  if (auto removed = ctx.objects.remove(key); !removed)
    return fail_record(ctx, "deleting rejected upload failed", removed.error(), key);
  ctx.log.warn("upload rejected",
               {{"sessionId", session.session_id}, {"key", key}, {"reason", reason}});
  ctx.log.metric("UploadsRejected", 1);
  const std::string error = std::string("Upload rejected: ").append(reason);
  rejections.push_back(boost::json::object{{"key", key}, {"reason", error}});
  const boost::json::object message{{"action", constants::action_error},
                                    {"sessionId", session.session_id},
                                    {"error", error},
                                    {"timestamp", ctx.clock.now_seconds()}};
  notify_desktop(session, boost::json::serialize(message), ctx);
  return Outcome::rejected;
}

std::string completion_message(const Session& session, Context& ctx) {
  boost::json::object message{{"action", constants::action_upload_completed},
                              {"sessionId", session.session_id},
                              {"uploadKey", *session.upload_key},
                              {"timestamp", ctx.clock.now_seconds()}};
  // Only the desktop that proved itself with its token gets a way to the image.
  if (session.ws_token_bound) {
    auto url = ctx.objects.presign_get(*session.upload_key,
                                       std::chrono::seconds(ctx.settings.download_url_ttl_seconds));
    if (url) {
      message["downloadUrl"] = *url;
      if (session.content_type) message["contentType"] = *session.content_type;
      if (session.upload_size) message["size"] = *session.upload_size;
    } else {
      ctx.log.error("presigning download failed",
                    {{"sessionId", session.session_id}, {"error", url.error().detail}});
    }
  }
  return boost::json::serialize(message);
}

Outcome process(const S3Record& record, Context& ctx, boost::json::array& rejections) {
  if (!record.event_name.starts_with("ObjectCreated"))
    return ignore(ctx, "not ObjectCreated", record);
  const auto key = decode_event_key(record.raw_key);
  if (!key || key->empty()) return ignore(ctx, "malformed key", record);
  const auto session_id = session_id_from_key(*key);
  if (!session_id) return ignore(ctx, "key outside session-uploads/{uuid}/", record);

  auto found = ctx.sessions.get(*session_id);
  if (!found) return fail_record(ctx, "reading session failed", found.error(), *key);
  if (!*found) return ignore(ctx, "no such session", record);
  const Session& session = **found;
  if (session.upload_key != *key) return ignore(ctx, "not the session's issued uploadKey", record);
  if (session.status == SessionStatus::completed) {
    ctx.log.info("duplicate event for completed session",
                 {{"sessionId", *session_id}, {"key", *key}});
    return Outcome::duplicate;
  }

  auto info = ctx.objects.inspect(*key, constants::sniff_bytes);
  if (!info) return fail_record(ctx, "inspecting upload failed", info.error(), *key);
  // Gone already: an earlier delivery of this event rejected and deleted it.
  if (!*info) return ignore(ctx, "object no longer exists", record);
  if ((*info)->size > ctx.settings.max_upload_bytes)
    return reject_upload(session, *key, "file too large", ctx, rejections);
  const std::string signed_type =
      session.content_type.value_or(std::string(constants::wildcard_image_type));
  if (!head_matches_type(signed_type, (*info)->head))
    return reject_upload(session, *key,
                         signed_type == constants::wildcard_image_type
                             ? "not a supported image"
                             : "not an image of type " + signed_type,
                         ctx, rejections);

  const std::int64_t now = ctx.clock.now_seconds();
  SessionUpdate complete;
  complete.status = SessionStatus::completed;
  complete.completed_at = now;
  complete.upload_size = static_cast<std::int64_t>((*info)->size);
  // The spec's wildcard type says nothing of the image; record what it turned out to be.
  complete.content_type = signed_type == constants::wildcard_image_type
                              ? std::string(*sniff_image_type((*info)->head))
                              : signed_type;
  UpdateCondition condition;
  const auto sources = allowed_sources(SessionStatus::completed);
  condition.status_in.assign(sources.begin(), sources.end());
  condition.upload_key_is = *key;
  auto updated = ctx.sessions.update(*session_id, complete, condition);
  if (!updated) {
    if (updated.error().code == ErrorCode::condition_failed) {
      // A concurrent delivery completed it first, or the phone asked for a new URL meanwhile.
      ctx.log.info("completion lost a race; nothing to do",
                   {{"sessionId", *session_id}, {"key", *key}});
      return Outcome::duplicate;
    }
    return fail_record(ctx, "completing session failed", updated.error(), *key);
  }

  ctx.log.info("upload completed",
               {{"sessionId", *session_id}, {"key", *key}, {"size", (*info)->size}});
  ctx.log.metric("UploadsCompleted", 1);
  ctx.log.metric("SessionDurationSeconds", static_cast<double>(now - session.created_at),
                 "Seconds");
  notify_desktop(*updated, completion_message(*updated, ctx), ctx);
  return Outcome::completed;
}

}  // namespace

Response s3_upload_completion(std::span<const S3Record> records, Context& ctx) {
  int counts[5] = {0, 0, 0, 0, 0};
  boost::json::array rejections;
  for (const auto& record : records) ++counts[static_cast<int>(process(record, ctx, rejections))];
  const int failed = counts[static_cast<int>(Outcome::failed)];
  return Response{failed > 0 ? 500 : 200,
                  {{"records", records.size()},
                   {"completed", counts[static_cast<int>(Outcome::completed)]},
                   {"duplicates", counts[static_cast<int>(Outcome::duplicate)]},
                   {"ignored", counts[static_cast<int>(Outcome::ignored)]},
                   {"rejected", counts[static_cast<int>(Outcome::rejected)]},
                   {"failed", failed},
                   {"rejections", std::move(rejections)}}};
}

}  // namespace qr::handlers
