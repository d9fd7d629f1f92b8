#pragma once
// Notifier over the in-process WebSocket hub: connection id -> live WebSocket session.

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "ports/notifier.hpp"

namespace qr::local {

/// One live WebSocket, as the hub sees it (the server's session class implements it).
class HubConnection {
 public:
  virtual ~HubConnection() = default;
  /// Queues a text frame; safe to call from any thread.
  virtual void send_text(std::string message) = 0;
};

/// Maps connection ids to live sockets. Sends outside the lock: the map is only read under it.
class HubNotifier final : public Notifier {
 public:
  /// Registers a connection under `id` (before $connect runs, so no message can miss it).
  void add(const std::string& id, std::weak_ptr<HubConnection> connection);
  /// Forgets `id`.
  void remove(const std::string& id);
  /// Connections currently registered.
  std::size_t size() const;

  /// Queues `message` for the connection; ErrorCode::gone when it is not (or no longer) open.
  Result<void> send(std::string_view connection_id, std::string_view message) override;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::weak_ptr<HubConnection>> connections_;
};

}  // namespace qr::local
