#pragma once
// `qr-upload serve`: the HTTP API, the WebSocket endpoint, signed uploads and downloads and the
// web pages on one port. Every request reaches the same routers the Lambdas use, as the event
// API Gateway or S3 would send. No Boost.Beast or Asio in this header.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "core/error.hpp"

namespace qr::local {

/// Everything `serve` is configured with.
struct ServerOptions {
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = 8080;  ///< 0: any free port (tests)
  std::filesystem::path data_dir = "data";
  std::string public_url;  ///< base URL for the QR code and signed URLs
  std::uint64_t max_upload_bytes = 25ull * 1024 * 1024;
  std::int64_t session_ttl_seconds = 1800;
  std::int64_t upload_url_ttl_seconds = 300;  ///< lifetime of a signed upload URL
  int idle_timeout_seconds = 30;              ///< an upload silent this long is abandoned
  std::filesystem::path web_dir;              ///< the pages (web/)
  int threads = 2;
};

/// A running server. Construct with start(), then run() until stop().
class Server {
 public:
  /// Opens the data directory and binds the port; a clear error when either is impossible.
  static Result<std::unique_ptr<Server>> start(ServerOptions options);
  virtual ~Server() = default;

  /// The port actually bound (the chosen one when options.port was 0).
  virtual std::uint16_t port() const = 0;
  /// The public base URL in effect.
  virtual const std::string& public_url() const = 0;
  /// Serves until stop() is called (from a signal handler's thread or another thread).
  virtual void run() = 0;
  /// Stops accepting and ends run().
  virtual void stop() = 0;
};

}  // namespace qr::local
