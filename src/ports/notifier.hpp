#pragma once
// Port: pushes a message to a desktop's WebSocket (API Gateway on AWS, an in-process hub locally).

#include <string_view>

#include "core/error.hpp"

namespace qr {

/// Sends text frames to WebSocket connections by id.
class Notifier {
 public:
  virtual ~Notifier() = default;

  /// Delivers `message` to `connection_id`. ErrorCode::gone when the connection no longer
  /// exists (the caller clears it and carries on); any other error is a real failure.
  virtual Result<void> send(std::string_view connection_id, std::string_view message) = 0;
};

}  // namespace qr
