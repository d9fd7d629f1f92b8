#include "local/shared_state.hpp"

#include <span>

#include "functions/websocket_event_handler.hpp"

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
  const auto answer = call(functions::websocket_event_handler, object_created_event(key, size));
  if (answer.status != 200) return {500, {{"error", "Internal server error"}}};
  // Locally the check runs before the PUT is answered, so the phone learns the verdict at once.
  if (auto reason = first_rejection(answer)) return {422, {{"error", *reason}}};
  return {200, {{"uploadKey", key}, {"size", size}}};
}

}  // namespace qr::local
