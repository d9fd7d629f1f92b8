// The spec's handlers/s3_upload_completion.py, for every record, at least once and in any order.
// Each issued slot of a session counts once; the count is kept honest under concurrency by a
// compare-and-set on uploadCount in the same conditional write that marks the slot.
#include <boost/json/serialize.hpp>

#include "core/file_name.hpp"
#include "core/image_type.hpp"
#include "core/s3_key.hpp"
#include "handlers/handlers.hpp"

namespace qr::handlers {
namespace {

enum class Outcome { completed, duplicate, ignored, rejected, failed };

struct Tally {
  int counts[5] = {0, 0, 0, 0, 0};
  boost::json::array rejections;   ///< {key, reason, status}: what the local PUT answers
  boost::json::array completions;  ///< {key, sessionId, fileName, index}: what was accepted
};

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

// Why an upload was refused: the reason the desktop and the phone read, and the HTTP status the
// local PUT answers with.
struct Refusal {
  std::string reason;
  int status;
};

// Deletes a refused upload and tells the desktop; the session stays as it was.
Outcome reject_upload(const Session& session, const std::string& key, const Refusal& refusal,
                      Context& ctx, Tally& tally) {
  if (auto removed = ctx.objects.remove(key); !removed)
    return fail_record(ctx, "deleting rejected upload failed", removed.error(), key);
  ctx.log.warn("upload rejected",
               {{"sessionId", session.session_id}, {"key", key}, {"reason", refusal.reason}});
  ctx.log.metric("UploadsRejected", 1);
  const std::string error = "Upload rejected: " + refusal.reason;
  tally.rejections.push_back(
      boost::json::object{{"key", key}, {"reason", error}, {"status", refusal.status}});
  auto message = action_message(constants::action_error, session.session_id,
                                ctx.clock.now_seconds());
  message["error"] = error;
  // A tokenless connection speaks only the spec's protocol: its four fields.
  if (session.ws_token_bound) {
    message["uploadKey"] = key;
    if (const UploadSlot* slot = find_slot(session, key)) message["fileName"] = slot->file_name;
  }
  notify_desktop(session, boost::json::serialize(message), ctx);
  return Outcome::rejected;
}

std::string completion_message(const Session& session, const UploadSlot& slot, Context& ctx) {
  auto message =
      action_message(constants::action_upload_completed, session.session_id, ctx.clock.now_seconds());
  message["uploadKey"] = slot.key;
  // Only the desktop that proved itself with its token gets more than the spec's fields, and a
  // way to the photo; a tokenless connection is a spec client, or someone who saw the QR code.
  if (session.ws_token_bound) {
    message["fileName"] = slot.file_name;
    message["contentType"] = slot.content_type;
    message["size"] = slot.size.value_or(0);
    message["index"] = slot.index.value_or(0);
    message["maxUploads"] = session.max_uploads;
    message["uploadsRemaining"] = session.max_uploads - session.upload_count;
    auto url = ctx.objects.presign_get(
        slot.key, std::chrono::seconds(ctx.settings.download_url_ttl_seconds), slot.file_name);
    if (auto preview = ctx.objects.preview_url(
            slot.key, std::chrono::seconds(ctx.settings.download_url_ttl_seconds)))
      message["previewUrl"] = *preview;
    if (url)
      message["downloadUrl"] = *url;
    else
      ctx.log.error("presigning download failed",
                    {{"sessionId", session.session_id}, {"error", url.error().detail}});
  }
  return boost::json::serialize(message);
}

const Refusal session_full{"this session already has all its photos", 409};

Outcome process(const S3Record& record, Context& ctx, Tally& tally) {
  if (!record.event_name.starts_with("ObjectCreated"))
    return ignore(ctx, "not ObjectCreated", record);
  const auto key = decode_event_key(record.raw_key);
  if (!key || key->empty()) return ignore(ctx, "malformed key", record);
  const auto session_id = session_id_from_key(*key);
  if (!session_id) return ignore(ctx, "key outside session-uploads/{uuid}/", record);

  auto found = ctx.sessions.get(*session_id);
  if (!found) return fail_record(ctx, "reading session failed", found.error(), *key);
  if (!*found) return ignore(ctx, "no such session", record);
  Session session = std::move(**found);
  const UploadSlot* slot = find_slot(session, *key);
  if (slot && slot->completed) {
    ctx.log.info("duplicate event for a slot that counted",
                 {{"sessionId", *session_id}, {"key", *key}});
    return Outcome::duplicate;
  }

  auto info = ctx.objects.inspect(*key, constants::sniff_bytes);
  if (!info) return fail_record(ctx, "inspecting upload failed", info.error(), *key);
  // Gone already: an earlier delivery of this event rejected and deleted it.
  if (!*info) return ignore(ctx, "object no longer exists", record);
  if (!slot)
    return reject_upload(session, *key, {"this upload was not expected by the session", 403}, ctx,
                         tally);
  if (session.status == SessionStatus::completed)
    return reject_upload(session, *key, session_full, ctx, tally);
  const std::int64_t now = ctx.clock.now_seconds();
  if (now > session.expires_at)
    return reject_upload(session, *key, {"the session has expired", 410}, ctx, tally);
  if ((*info)->size > ctx.settings.max_upload_bytes)
    return reject_upload(session, *key, {"file too large", 413}, ctx, tally);
  const std::string signed_type = slot->content_type.empty()
                                      ? std::string(constants::wildcard_image_type)
                                      : slot->content_type;
  if (!head_matches_type(signed_type, (*info)->head))
    return reject_upload(session, *key,
                         {signed_type == constants::wildcard_image_type
                              ? "not a supported image"
                              : "not an image of type " + signed_type,
                          422},
                         ctx, tally);
  // The spec's wildcard type says nothing of the image; record what it turned out to be.
  const std::string actual_type = signed_type == constants::wildcard_image_type
                                      ? std::string(*sniff_image_type((*info)->head))
                                      : signed_type;

  // Compare-and-set on the count: each failure means another write changed the session, so at
  // most max_uploads completions (and one end by the desktop) can make this retry.
  for (int attempt = 0; attempt <= session.max_uploads + 2; ++attempt) {
    if (session.upload_count >= session.max_uploads || session.status == SessionStatus::completed)
      return reject_upload(session, *key, session_full, ctx, tally);
    const int count = session.upload_count + 1;
    const bool last = count == session.max_uploads;
    UploadSlot done = *slot;
    done.completed = true;
    done.content_type = actual_type;
    done.file_name = name_for_type(slot->file_name, actual_type);
    done.size = static_cast<std::int64_t>((*info)->size);
    done.completed_at = now;
    done.index = count;
    SessionUpdate complete;
    complete.put_slot = done;
    complete.upload_count = count;
    complete.upload_key = *key;
    complete.content_type = actual_type;
    complete.upload_size = done.size;
    if (last) {
      complete.status = SessionStatus::completed;
      complete.completed_at = now;
    }
    UpdateCondition condition;
    const auto sources = allowed_sources(SessionStatus::completed);
    condition.status_in.assign(sources.begin(), sources.end());
    condition.upload_count_is = session.upload_count;
    condition.slot_open = *key;
    auto updated = ctx.sessions.update(*session_id, complete, condition);
    if (updated) {
      ctx.log.info("upload completed", {{"sessionId", *session_id},
                                        {"key", *key},
                                        {"size", (*info)->size},
                                        {"index", count},
                                        {"maxUploads", session.max_uploads}});
      ctx.log.metric("UploadsCompleted", 1);
      tally.completions.push_back(boost::json::object{{"key", *key},
                                                      {"sessionId", *session_id},
                                                      {"fileName", done.file_name},
                                                      {"index", count},
                                                      {"uploadsRemaining", session.max_uploads - count}});
      notify_desktop(*updated, completion_message(*updated, done, ctx), ctx);
      if (last) {
        ctx.log.metric("SessionDurationSeconds", static_cast<double>(now - session.created_at),
                       "Seconds");
        if (updated->ws_token_bound) {
          auto message = action_message(constants::action_session_completed, *session_id, now);
          message["uploadCount"] = count;
          message["reason"] = "full";
          notify_desktop(*updated, boost::json::serialize(message), ctx);
        }
      }
      return Outcome::completed;
    }
    if (updated.error().code != ErrorCode::condition_failed)
      return fail_record(ctx, "completing upload failed", updated.error(), *key);
    // Someone else wrote first: look again.
    auto again = ctx.sessions.get(*session_id);
    if (!again) return fail_record(ctx, "reading session failed", again.error(), *key);
    if (!*again) return ignore(ctx, "session vanished", record);
    session = std::move(**again);
    slot = find_slot(session, *key);
    if (!slot) return fail_record(ctx, "slot vanished", Error{ErrorCode::internal, *key}, *key);
    if (slot->completed) {
      ctx.log.info("a concurrent delivery completed it first",
                   {{"sessionId", *session_id}, {"key", *key}});
      return Outcome::duplicate;
    }
  }
  return fail_record(ctx, "completion kept losing races",
                     Error{ErrorCode::unavailable, "too many concurrent writes"}, *key);
}

}  // namespace

Response s3_upload_completion(std::span<const S3Record> records, Context& ctx) {
  Tally tally;
  for (const auto& record : records) ++tally.counts[static_cast<int>(process(record, ctx, tally))];
  const int failed = tally.counts[static_cast<int>(Outcome::failed)];
  return Response{failed > 0 ? 500 : 200,
                  {{"records", records.size()},
                   {"completed", tally.counts[static_cast<int>(Outcome::completed)]},
                   {"duplicates", tally.counts[static_cast<int>(Outcome::duplicate)]},
                   {"ignored", tally.counts[static_cast<int>(Outcome::ignored)]},
                   {"rejected", tally.counts[static_cast<int>(Outcome::rejected)]},
                   {"failed", failed},
                   {"rejections", std::move(tally.rejections)},
                   {"completions", std::move(tally.completions)}}};
}

}  // namespace qr::handlers
