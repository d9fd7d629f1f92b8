#include "ports/session_store.hpp"

#include <algorithm>

namespace qr {

bool condition_holds(const Session& current, const UpdateCondition& condition) {
  if (!condition.status_in.empty() &&
      std::ranges::find(condition.status_in, current.status) == condition.status_in.end())
    return false;
  if (condition.connection_is && current.ws_connection_id != *condition.connection_is) return false;
  if (condition.upload_key_is && current.upload_key != *condition.upload_key_is) return false;
  if (condition.connection_not_token_bound && current.ws_connection_id && current.ws_token_bound)
    return false;
  if (condition.upload_count_is && current.upload_count != *condition.upload_count_is) return false;
  if (condition.slot_open) {
    const UploadSlot* slot = find_slot(current, *condition.slot_open);
    if (!slot || slot->completed) return false;
  }
  if (condition.slots_fewer_than && current.uploads.size() >= *condition.slots_fewer_than)
    return false;
  if (condition.uploader_token_hash_is &&
      current.uploader_token_hash != *condition.uploader_token_hash_is)
    return false;
  if (condition.slot_untold) {
    const UploadSlot* slot = find_slot(current, condition.slot_untold->key);
    if (!slot || !slot->completed || slot->notified_at) return false;
    if (slot->notifying_until && *slot->notifying_until >= condition.slot_untold->now) return false;
  }
  return true;
}

void apply_update(Session& session, const SessionUpdate& changes) {
  if (changes.status) session.status = *changes.status;
  if (changes.upload_key) session.upload_key = *changes.upload_key;
  if (changes.content_type) session.content_type = *changes.content_type;
  if (changes.completed_at) session.completed_at = *changes.completed_at;
  if (changes.upload_size) session.upload_size = *changes.upload_size;
  if (changes.ws_connection_id) session.ws_connection_id = *changes.ws_connection_id;
  if (changes.ws_token_bound) session.ws_token_bound = *changes.ws_token_bound;
  if (changes.upload_count) session.upload_count = *changes.upload_count;
  if (changes.put_slot) {
    auto it = std::ranges::find(session.uploads, changes.put_slot->key, &UploadSlot::key);
    if (it != session.uploads.end())
      *it = *changes.put_slot;
    else
      session.uploads.push_back(*changes.put_slot);
  }
  if (changes.uploader_token_hash) session.uploader_token_hash = *changes.uploader_token_hash;
}

}  // namespace qr
