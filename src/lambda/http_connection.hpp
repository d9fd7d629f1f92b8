#pragma once
// A minimal HTTP/1.1 client over one POSIX TCP socket, for the loopback Lambda Runtime API.
// Deliberately not Beast/Asio: the bootstrap stays small and starts fast, and the Runtime API
// is plain HTTP on loopback, spoken one request at a time.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace qr::lambda {

/// One header line: name as sent, value without surrounding spaces.
using HttpHeader = std::pair<std::string, std::string>;

/// A complete HTTP response (body already de-chunked).
struct HttpResponse {
  /// The status code, e.g. 200.
  int status = 0;
  /// Headers in the order received.
  std::vector<HttpHeader> headers;
  /// The body, after chunked transfer decoding.
  std::string body;

  /// Value of the first header named `name` (case-insensitive), or empty when absent.
  std::string_view header(std::string_view name) const;
};

/// A keep-alive connection to one host:port. Connects lazily, reconnects once when a reused
/// connection turns out to have been closed by the peer. No timeouts, by design (see .cpp).
class HttpConnection {
 public:
  /// A connection to `host`:`port` (not opened until the first request).
  HttpConnection(std::string host, std::string port);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;
  /// Moves the open socket, if any.
  HttpConnection(HttpConnection&& other) noexcept;
  HttpConnection& operator=(HttpConnection&& other) = delete;

  /// Sends one request and reads its whole response. `headers` are sent as given, plus Host and
  /// (when a body is sent or the method is POST/PUT) Content-Length.
  Result<HttpResponse> request(
      std::string_view method, std::string_view target,
      const std::vector<std::pair<std::string_view, std::string_view>>& headers,
      std::string_view body);

  /// Closes the socket; the next request reconnects.
  void close();

 private:
  Result<void> connect();
  Result<void> send_all(std::string_view head, std::string_view body);
  /// Reads more bytes into in_; 0 on orderly close.
  Result<std::size_t> read_more();
  Result<HttpResponse> read_response(bool& nothing_received);
  Result<void> read_until(std::string_view delimiter, std::size_t from, std::size_t& found);
  Result<void> read_at_least(std::size_t bytes);

  std::string host_;
  std::string port_;
  int fd_ = -1;
  std::string out_;  // request head, reused between requests
  std::string in_;   // received but not yet consumed bytes
};

}  // namespace qr::lambda
