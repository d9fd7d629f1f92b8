#pragma once
// The HTTP messages of the local server in Beast's types: the header fields a request brings to
// the event builders, and the answers it sends (JSON errors and bodies, a router's answer). Also
// what the edge checks before a request reaches anything (socket-free, so tested alone): which
// Host and Origin may talk to it, what it answers CORS with, the headers every answer carries, and
// its limits (connections, sockets per session, open sessions, requests per client address).

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "local/local_events.hpp"

namespace qr::local {

using StringResponse = boost::beast::http::response<boost::beast::http::string_body>;

/// A request's header fields, as the event builders take them.
HeaderFields fields_of(const boost::beast::http::request_header<>& header);

/// A JSON body with a status; never cached.
StringResponse json_response(unsigned status, const boost::json::object& body, unsigned version,
                             bool keep_alive);
/// {"error": message} with a status.
StringResponse error_json(unsigned status, std::string_view message, unsigned version,
                          bool keep_alive);
/// A router's answer (status, its headers, its body) as an HTTP response.
StringResponse from_router(const RouterAnswer& answer, unsigned version, bool keep_alive);

/// The current time as an HTTP date (IMF-fixdate, RFC 9110), for the Date header.
std::string http_date(std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

/// Why a request header is refused before anything reads it, or nullopt when it may go on.
struct Refusal {
  unsigned status;
  std::string message;
};

/// Who may talk to the server. Host names: the public URL's, the loopback names, and the
/// user's list (a name that resolves here by DNS rebinding is none of them). Origins: the
/// request's own (scheme and an allowed Host), the public URL's, and the user's list.
class EdgePolicy {
 public:
  EdgePolicy(std::string_view public_url, const std::vector<std::string>& allowed_hosts,
             const std::vector<std::string>& allowed_origins, bool tls);

  /// Host (name, port ignored, case-insensitive) is one this server answers to.
  bool host_allowed(std::string_view host) const;
  /// An Origin header may use the server: absent (not a browser, or a same-origin GET), or one of
  /// the allowed origins. `host` is the request's Host header.
  bool origin_allowed(std::string_view origin, std::string_view host) const;
  /// The checks of a request header: Transfer-Encoding, Host, Origin.
  std::optional<Refusal> check(const boost::beast::http::request_header<>& header) const;

  /// The Access-Control-Allow-Origin to answer a request from `origin` with: the origin itself
  /// when allowed, else the public URL's origin (never "*").
  std::string allow_origin(std::string_view origin, std::string_view host) const;
  /// The Content-Security-Policy of the pages: scripts and styles from this server only (the
  /// pages have no inline ones), no framing, connections to this server and its WebSocket.
  std::string page_policy(std::string_view host) const;

  const std::string& public_origin() const { return public_origin_; }

 private:
  std::string scheme_;
  std::string public_origin_;
  std::vector<std::string> hosts_;    // lower-case names, no port
  std::vector<std::string> origins_;  // lower-case scheme://host[:port]
};

/// Sets what every answer carries: Date, nosniff, no Referer, no framing, and CORS for `origin`
/// (the routers answer "*" for AWS; the local server answers only allowed origins).
void finish_headers(boost::beast::http::fields& fields, const EdgePolicy& policy,
                    std::string_view origin, std::string_view host, bool is_page);

/// Requests per client address, as token buckets (`per_minute` a minute, as many at once).
/// IPv6 addresses count by their /64, which one client usually holds whole.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RateLimiter(unsigned per_minute, std::size_t max_clients = 65536);
  /// nullopt when `address` may go on (and counts it), else the seconds to wait (Retry-After).
  std::optional<unsigned> take(std::string_view address, Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  double refill(Bucket& bucket, Clock::time_point now) const;

  unsigned per_minute_;
  std::size_t max_clients_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

/// Sessions created and not yet expired, counted at the edge (the store is not asked per request).
class OpenSessions {
 public:
  explicit OpenSessions(std::size_t max) : max_(max) {}
  /// nullopt when one more may be created, else the seconds until the first of them expires.
  std::optional<unsigned> full(std::int64_t now);
  /// A session created that expires at `expires_at`.
  void created(std::int64_t expires_at);

 private:
  std::size_t max_;
  std::mutex mutex_;
  std::deque<std::int64_t> expiries_;  // in creation order (TTL fixed: also expiry order)
};

/// Live WebSockets per session: the desktop and a few more, never thousands.
class SessionSockets {
 public:
  explicit SessionSockets(unsigned max) : max_(max) {}
  /// Counts a socket for `session_id`; false (nothing counted) when it has its maximum.
  bool add(const std::string& session_id);
  void remove(const std::string& session_id);

 private:
  unsigned max_;
  std::mutex mutex_;
  std::unordered_map<std::string, unsigned> counts_;
};

/// Open connections against a cap. A slot is held by the connection (HTTP, then WebSocket) for
/// as long as it lives.
class ConnectionCount {
 public:
  explicit ConnectionCount(std::size_t max) : max_(max) {}
  using Slot = std::shared_ptr<void>;
  /// A slot, or nullptr when the cap is reached.
  Slot acquire();
  std::size_t open() const { return open_.load(); }
  std::size_t max() const { return max_; }

 private:
  std::size_t max_;
  std::atomic<std::size_t> open_{0};
};

/// What the edge of one server holds: its policy and its limits.
struct Edge {
  Edge(EdgePolicy policy_, std::size_t max_connections, unsigned max_sockets_per_session,
       std::size_t max_open_sessions, unsigned requests_per_minute)
      : policy(std::move(policy_)),
        connections(max_connections),
        sockets(max_sockets_per_session),
        open_sessions(max_open_sessions),
        create_limit(requests_per_minute),
        upload_url_limit(requests_per_minute),
        short_code_limit(std::min(requests_per_minute, short_code_lookups_per_minute)) {}

  /// GET /c/{code} per client address: a person types a code a few times, while someone guessing
  /// the million codes needs 35 days for each live session at this pace.
  static constexpr unsigned short_code_lookups_per_minute = 20;

  EdgePolicy policy;
  ConnectionCount connections;
  SessionSockets sockets;
  OpenSessions open_sessions;
  RateLimiter create_limit;      ///< POST /sessions
  RateLimiter upload_url_limit;  ///< GET /upload-url
  RateLimiter short_code_limit;  ///< GET /c/{code}
};

}  // namespace qr::local
