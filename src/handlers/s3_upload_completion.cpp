// The spec's handlers/s3_upload_completion.py, for every record, at least once and in any order.
// Each issued slot of a session counts once; the count is kept honest under concurrency by a
// compare-and-set on uploadCount in the same conditional write that marks the slot.
//
// Telling the desktop (UPLOAD_COMPLETED) is at least once too, and never twice what was
// delivered: the write that counts a photo also gives this delivery the telling of it for a while
// (the slot's notifyingUntil); once the connection took the message, notifiedAt records it. A
// send that fails otherwise than on a gone connection fails the record, so Lambda delivers the
// event again, and that delivery, finding the slot counted but never told and nobody telling it,
// takes the telling over and resends. A gone connection or none is not retried: the desktop
// catches up with GET /sessions/{id} when it connects again.
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
  auto message =
      action_message(constants::action_error, session.session_id, ctx.clock.now_seconds());
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
  auto message = action_message(constants::action_upload_completed, session.session_id,
                                ctx.clock.now_seconds());
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

// Tells the desktop about a counted photo whose telling this delivery holds: UPLOAD_COMPLETED,
// then SESSION_COMPLETED when it was the photo that filled the session. Records notifiedAt once
// the connection took it. False when the send failed otherwise than on a gone connection: the
// caller fails the record so that the event comes again.
bool tell_desktop(const Session& session, UploadSlot slot, Context& ctx) {
  const std::int64_t now = ctx.clock.now_seconds();
  const Delivery delivery = notify_desktop(session, completion_message(session, slot, ctx), ctx);
  if (delivery == Delivery::failed) {
    // Give the telling back, so that the redelivery resends at once rather than after the lease.
    slot.notifying_until.reset();
    SessionUpdate release;
    release.put_slot = slot;
    if (auto released = ctx.sessions.update(session.session_id, release, {}); !released)
      ctx.log.warn("could not release the notification", {{"sessionId", session.session_id},
                                                          {"key", slot.key},
                                                          {"error", released.error().detail}});
    return false;
  }
  if (delivery != Delivery::delivered) return true;
  slot.notified_at = now;
  slot.notifying_until.reset();
  SessionUpdate record;
  record.put_slot = slot;
  // Delivered is what matters: a failure to record it is logged, not retried (a retry would
  // send the photo twice).
  if (auto recorded = ctx.sessions.update(session.session_id, record, {}); !recorded)
    ctx.log.error(
        "recording the notification failed",
        {{"sessionId", session.session_id}, {"key", slot.key}, {"error", recorded.error().detail}});
  const bool filled_it =
      session.status == SessionStatus::completed && slot.index == session.max_uploads;
  if (filled_it && session.ws_token_bound) {
    auto message = action_message(constants::action_session_completed, session.session_id, now);
    message["uploadCount"] = session.upload_count;
    message["reason"] = "full";
    notify_desktop(session, boost::json::serialize(message), ctx);
  }
  return true;
}

// Another delivery of an event whose photo counted already: it is not counted again, and the
// desktop is told only if it never was and no other delivery is telling it now.
Outcome duplicate(const Session& session, const UploadSlot& slot, Context& ctx) {
  ctx.log.info("duplicate event for a slot that counted",
               {{"sessionId", session.session_id}, {"key", slot.key}});
  const std::int64_t now = ctx.clock.now_seconds();
  if (slot.notified_at || !session.ws_connection_id) return Outcome::duplicate;
  if (slot.notifying_until && *slot.notifying_until >= now) return Outcome::duplicate;
  UploadSlot taken = slot;
  taken.notifying_until = now + constants::notify_lease_seconds;
  SessionUpdate take;
  take.put_slot = taken;
  UpdateCondition untold;
  untold.slot_untold = UpdateCondition::SlotUntold{slot.key, now};
  auto updated = ctx.sessions.update(session.session_id, take, untold);
  if (!updated) {
    // Told meanwhile, or another delivery took it over: either way not this one's to send.
    if (updated.error().code == ErrorCode::condition_failed) return Outcome::duplicate;
    return fail_record(ctx, "taking over the notification failed", updated.error(), slot.key);
  }
  ctx.log.info("resending a notification that was never delivered",
               {{"sessionId", session.session_id}, {"key", slot.key}});
  ctx.log.metric("NotificationsResent", 1);
  if (!tell_desktop(*updated, taken, ctx))
    return fail_record(ctx, "resending the notification failed",
                       Error{ErrorCode::unavailable, "notifier"}, slot.key);
  return Outcome::duplicate;
}

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
  if (slot && slot->completed) return duplicate(session, *slot, ctx);

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
  const std::string signed_type =
      slot->content_type.empty() ? std::string(constants::wildcard_image_type) : slot->content_type;
  if (!head_matches_type(signed_type, (*info)->head))
    return reject_upload(
        session, *key,
        {signed_type == constants::wildcard_image_type ? "not a supported image"
                                                       : "not an image of type " + signed_type,
         422},
        ctx, tally);
  // The spec's wildcard type says nothing of the image; record what it turned out to be.
  const std::string actual_type = signed_type == constants::wildcard_image_type
                                      ? std::string(*sniff_image_type((*info)->head))
                                      : signed_type;
  // A deployment may take fewer types than the check knows (ALLOWED_CONTENT_TYPES): the spec's
  // image/* URL accepts any image, so its bytes are held to the list here.
  if (!ctx.settings.allowed_types.find(actual_type))
    return reject_upload(session, *key,
                         {"images of type " + actual_type + " are not accepted", 422}, ctx, tally);

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
    // This delivery tells the desktop; another one of the same event waits for it (duplicate()).
    done.notifying_until = now + constants::notify_lease_seconds;
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
      tally.completions.push_back(
          boost::json::object{{"key", *key},
                              {"sessionId", *session_id},
                              {"fileName", done.file_name},
                              {"index", count},
                              {"uploadsRemaining", session.max_uploads - count}});
      if (last)
        ctx.log.metric("SessionDurationSeconds", static_cast<double>(now - session.created_at),
                       "Seconds");
      if (!tell_desktop(*updated, done, ctx))
        return fail_record(ctx, "telling the desktop failed; the event will come again",
                           Error{ErrorCode::unavailable, "notifier"}, *key);
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
      return duplicate(session, *slot, ctx);
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
