#include "local/shared_state.hpp"

#include <boost/json/serialize.hpp>

#include <span>

#include "core/image_type.hpp"
#include "functions/websocket_event_handler.hpp"
#include "local/heic_preview.hpp"

namespace qr::local {

std::string SharedState::new_id() {
  unsigned char bytes[12];
  random.fill(std::as_writable_bytes(std::span(bytes)));
  return crypto::base64url(bytes);
}

UploadVerdict SharedState::store_upload(const std::filesystem::path& temp, const std::string& key,
                                        std::uint64_t size) {
  if (auto committed = objects->commit(temp, key); !committed) {
    std::error_code ec;
    std::filesystem::remove(temp, ec);
    // Objects are write-once: a second PUT to a used URL cannot replace a checked image.
    if (committed.error().code == ErrorCode::already_exists)
      return {409, {{"error", "Object already exists"}}};
    log.error("cannot store upload", {{"key", key}, {"error", committed.error().detail}});
    return {500, {{"error", "Internal server error"}}};
  }
  make_preview(key);
  const auto answer = call(functions::websocket_event_handler, object_created_event(key, size));
  // Locally the check runs before the PUT is answered, so the phone learns the verdict at once.
  if (auto refusal = first_rejection(answer))
    return {refusal->status, {{"error", refusal->reason}}};  // the handler deleted it
  const auto accepted = first_completion(answer);
  if (answer.status != 200 || !accepted) {
    // Stored but not counted (a storage error while completing it, or nothing to count it
    // for): remove it, so the phone's retry of the same URL stores it afresh instead of meeting
    // a permanent 409 of the write-once store.
    if (auto removed = objects->remove(key); !removed)
      log.error("cannot remove an upload that did not count",
                {{"key", key}, {"error", removed.error().detail}});
    if (answer.status != 200)
      return {503, {{"error", "The photo could not be recorded. Please try again."}}};
    return {409, {{"error", "Upload rejected: this upload was not expected by the session"}}};
  }
  boost::json::object body{{"uploadKey", key},
                           {"size", size},
                           {"fileName", accepted->file_name},
                           {"index", accepted->index},
                           {"uploadsRemaining", accepted->uploads_remaining}};
  if (save_dir) {
    if (auto saved = save_to_folder(*accepted)) body["savedAs"] = saved->string();
  }
  return {200, std::move(body)};
}

void SharedState::make_preview(const std::string& key) {
  const auto path = objects->path_for(key);
  auto head = objects->inspect(key, constants::sniff_bytes);
  if (!path || !head || !*head) return;
  const auto type = sniff_image_type((*head)->head);
  if (type != "image/heic" && type != "image/heif") return;
  // Before the check runs, so its message can carry the preview; a refused photo's preview goes
  // with it (DiskObjectStore::remove).
  if (auto made = write_heic_preview(*path, *objects->preview_path_for(key)); !made)
    log.warn("no preview for a HEIF photo", {{"key", key}, {"error", made.error().detail}});
}

std::optional<std::filesystem::path> SharedState::save_to_folder(const AcceptedUpload& photo) {
  const auto source = objects->path_for(photo.key);
  if (!source) return std::nullopt;
  auto saved = save_dir->save(*source, photo.file_name);
  boost::json::object message{
      {"action", "UPLOAD_SAVED"}, {"sessionId", photo.session_id}, {"uploadKey", photo.key}};
  if (saved) {
    log.info("photo saved", {{"key", photo.key}, {"savedAs", saved->string()}});
    message["fileName"] = saved->filename().string();
    message["savedAs"] = saved->string();
  } else {
    // The photo is safe in the data directory and on the desktop page; say why the folder has
    // not got it.
    log.error("cannot save photo into the folder", {{"key", photo.key},
                                                    {"folder", save_dir->path().string()},
                                                    {"error", saved.error().detail}});
    message["fileName"] = photo.file_name;
    message["error"] =
        "Could not save into " + save_dir->path().string() + ": " + saved.error().detail;
  }
  // Local-only news for the desktop that proved itself with its token.
  if (auto session = sessions->get(photo.session_id);
      session && *session && (*session)->ws_connection_id && (*session)->ws_token_bound)
    (void)hub.send(*(*session)->ws_connection_id, boost::json::serialize(message));
  if (!saved) return std::nullopt;
  return *saved;
}

}  // namespace qr::local
