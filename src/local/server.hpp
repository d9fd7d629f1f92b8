#pragma once
// `qr-upload serve`: the HTTP API, the WebSocket endpoint, signed uploads and downloads and the
// web pages on one port. Every request reaches the same routers the Lambdas use, as the event
// API Gateway or S3 would send. No Boost.Beast or Asio in this header.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

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
  std::filesystem::path save_dir;  ///< --save-dir: accepted photos also go here (empty: none)
  int threads = 2;

  // Limits, each answered clearly when reached.
  std::size_t max_connections = 16384;   ///< open connections (503 past it); at most the fd limit
  unsigned max_sockets_per_session = 4;  ///< WebSockets on one session (429 past it)
  std::size_t max_open_sessions = 1000;  ///< sessions created and not expired (503 past it)
  unsigned rate_limit_per_minute = 120;  ///< POST /sessions, GET /upload-url per client (429)
  std::uint64_t min_upload_rate = 1024;  ///< bytes/s an upload must average after its first
                                         ///< idle_timeout_seconds (a drip is cut: 408)
  int upload_deadline_seconds = 900;     ///< the longest one upload may take (408)
  std::uint64_t disk_quota_bytes = 10ull << 30;  ///< photos and uploads in progress (507); 0: none
  std::uint64_t min_free_bytes = 256ull << 20;   ///< free space left on the disk (507)

  // Who may talk to the server: Host names and Origins besides the public URL's (and loopback).
  std::vector<std::string> allowed_hosts;
  std::vector<std::string> allowed_origins;

  // HTTPS and WSS on the port (PEM files); the signed URLs and the QR code then use https.
  std::filesystem::path tls_cert;
  std::filesystem::path tls_key;
};

/// A desktop inside this process (`qr-upload receive`): its session and the URL its QR code
/// carries (the phone page for that session).
struct LocalDesktop {
  std::string session_id;
  std::string phone_url;
  std::string short_link;  ///< {public URL}/c/{shortCode}: what a person types on the phone
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
  /// Creates a session for `max_uploads` photos with a desktop inside this process: every
  /// message a desktop page would get for it is handed to `on_message` (JSON text, called on an
  /// I/O thread). Call before run().
  virtual Result<LocalDesktop> open_desktop(int max_uploads,
                                            std::function<void(std::string_view)> on_message) = 0;
};

}  // namespace qr::local
