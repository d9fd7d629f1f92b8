#include "local/hub_notifier.hpp"

namespace qr::local {

void HubNotifier::add(const std::string& id, std::weak_ptr<HubConnection> connection) {
  std::lock_guard lock(mutex_);
  connections_[id] = std::move(connection);
}

void HubNotifier::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  connections_.erase(id);
}

std::size_t HubNotifier::size() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

Result<void> HubNotifier::send(std::string_view connection_id, std::string_view message) {
  std::shared_ptr<HubConnection> connection;
  {
    std::lock_guard lock(mutex_);
    auto it = connections_.find(std::string(connection_id));
    if (it != connections_.end()) connection = it->second.lock();
  }
  if (!connection) return fail(ErrorCode::gone, "no open WebSocket " + std::string(connection_id));
  connection->send_text(std::string(message));
  return {};
}

}  // namespace qr::local
