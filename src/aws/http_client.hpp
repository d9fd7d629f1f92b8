#pragma once
// A small synchronous HTTP/1.1 client for the AWS APIs and the Lambda Runtime API: one kept-alive
// connection to one endpoint, TLS with verification, timeouts. Boost.Beast and Asio stay inside
// http_client.cpp, the only HTTP/1.1 client (and parser) of the AWS deployment.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "aws/config.hpp"
#include "aws/sigv4.hpp"
#include "core/error.hpp"

namespace qr::aws {

/// A request to the client's endpoint.
struct HttpRequest {
  std::string method;  ///< "GET", "POST", ...
  std::string target;  ///< path and query as sent ("/bucket/key?x=1")
  Pairs headers;       ///< extra headers; Host, Content-Length and Connection are added
  std::string body;    ///< request body (may be empty)
};

/// A response as received.
struct HttpResponse {
  int status = 0;    ///< HTTP status code
  Pairs headers;     ///< response headers, names as the server sent them
  std::string body;  ///< the whole body

  /// The first header named `name` (case-insensitive), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
};

/// Sends requests; the seam the adapters are tested through (fakes inject faults here).
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  /// Sends `request` and reads the response. ErrorCode::unavailable for connection failures,
  /// resets and timeouts (detail says which); any HTTP status is a successful result.
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
  /// Opens the connection now (DNS, TCP, TLS) instead of on the first request, so a Lambda pays
  /// the handshake during its init phase. A failure is returned but harmless: send() retries.
  virtual Result<void> warm_up() { return {}; }
};

/// Knobs of the Beast client.
struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{3000};  ///< DNS + TCP + TLS handshake
  std::chrono::milliseconds read_timeout{10000};    ///< write request + read whole response
  /// Plain blocking socket calls with no timeout on any step, for the Lambda Runtime API: GET
  /// /next blocks until an event arrives and the sandbox is frozen in between, so any timer
  /// would fire spuriously on thaw; on loopback a blocking call is also the cheapest (no event
  /// loop: half the system calls per request). The two timeouts above are then unused. Plain
  /// http only: an https endpoint always has its timeouts.
  bool blocking = false;
  bool keep_alive = true;  ///< reuse the connection (false: a new one per request, for benches)
  std::optional<std::string> ca_file;       ///< CA bundle; default: SSL_CERT_FILE, Debian, AL2023
  std::size_t max_body = 16 * 1024 * 1024;  ///< responses larger than this are an error
};

/// A client for `endpoint` over Boost.Beast (plain TCP for http://, OpenSSL for https://).
/// The connection is opened lazily, kept alive, and re-opened once when the server has closed it.
/// TCP_NODELAY is set and each request goes out in one write: AWS endpoints and the Runtime API
/// disable Nagle too, and a request written in pieces would meet delayed ACKs (about 40 ms).
/// An IP-literal host is connected to without a resolver. Not thread-safe: one per thread (a
/// Lambda handles one event at a time).
std::unique_ptr<HttpClient> make_http_client(const Endpoint& endpoint,
                                             const HttpClientOptions& options = {});

/// The CA bundle to trust: SSL_CERT_FILE when set, else the first existing of Debian's
/// /etc/ssl/certs/ca-certificates.crt and Amazon Linux's /etc/pki/tls/certs/ca-bundle.crt.
std::optional<std::string> default_ca_file(const EnvLookup& env);
/// A directory of CA certificates named by subject hash (SSL_CERT_DIR, AL2023's
/// directory-hash, Debian's /etc/ssl/certs), used in preference to a bundle when no
/// SSL_CERT_FILE is set; nullopt when there is none.
std::optional<std::string> hashed_ca_dir(const EnvLookup& env);

}  // namespace qr::aws
