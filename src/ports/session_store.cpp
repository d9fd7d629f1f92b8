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
}

}  // namespace qr
