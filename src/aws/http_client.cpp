// The only translation unit that includes Boost.Beast/Asio: everything else sees HttpClient.
//
// The interface is synchronous (a Lambda handles one event at a time) but the I/O is Asio's
// asynchronous operations run on a private io_context, because that is how Beast puts a timeout
// on each step (tcp_stream::expires_after) without threads. The one exception is the blocking
// mode of the Runtime API client, which wants no timeout at all: there the same parser and
// serializer run over plain blocking socket calls.

#include "aws/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "core/ascii.hpp"

namespace qr::aws {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using std::chrono::milliseconds;

// Headers of a Runtime API event carry the client context (up to about 3.5 KB) beside the
// usual ones; Beast's default limit (8 KB) would be close.
constexpr std::uint32_t header_limit = 64 * 1024;

// Errors that mean "the server closed the kept-alive connection before we used it": the request
// never reached the application, so sending it again on a new connection is safe.
bool is_stale_connection(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted || ec == ssl::error::stream_truncated;
}

std::optional<net::ip::address> ip_literal(const std::string& host) {
  error_code ec;
  const net::ip::address address = net::ip::make_address(host, ec);
  if (ec) return std::nullopt;
  return address;
}

// One TLS context per CA source, shared by every client of the process. Loading Debian's or
// AL2023's CA bundle (about 150 certificates) costs some 17 ms of CPU; once per client it tripled
// a Lambda's init time (DynamoDB, S3 and the Management API each had their own).
struct SharedTlsContext {
  std::shared_ptr<ssl::context> context;
  error_code error;
};

SharedTlsContext shared_tls_context(const std::optional<std::string>& ca_file) {
  static std::mutex mutex;
  static std::map<std::string, SharedTlsContext> contexts;
  const EnvLookup env = process_environment();
  // A hashed CA directory lets OpenSSL read only the one root a handshake needs, instead of
  // parsing the whole bundle up front (init drops from ~20 ms to ~3 ms of CPU).
  const std::optional<std::string> dir =
      ca_file || env("SSL_CERT_FILE") ? std::nullopt : hashed_ca_dir(env);
  const std::optional<std::string> ca = ca_file ? ca_file
                                        : dir   ? std::nullopt
                                                : default_ca_file(env);
  const std::string cache_key = dir ? "dir:" + *dir : "file:" + ca.value_or("");
  std::lock_guard lock(mutex);
  if (auto it = contexts.find(cache_key); it != contexts.end()) return it->second;
  SharedTlsContext shared{std::make_shared<ssl::context>(ssl::context::tls_client), {}};
  shared.context->set_verify_mode(ssl::verify_peer);
  if (dir)
    shared.context->add_verify_path(*dir, shared.error);
  else if (ca)
    shared.context->load_verify_file(*ca, shared.error);
  else
    shared.context->set_default_verify_paths(shared.error);
  // A failed load is not cached: the next client tries again (the file may appear).
  if (!shared.error) contexts.emplace(cache_key, shared);
  return shared;
}

class BeastHttpClient final : public HttpClient {
 public:
  BeastHttpClient(Endpoint endpoint, HttpClientOptions options)
      : endpoint_(std::move(endpoint)),
        options_(std::move(options)),
        host_(endpoint_.authority()),
        literal_(ip_literal(endpoint_.host)),
        resolver_(ioc_) {
    // Room for a whole typical response (an event, a DynamoDB item) in the first read; Beast
    // would start at 512 bytes and grow over several reads.
    buffer_.reserve(16 * 1024);
    if (endpoint_.tls) {
      auto shared = shared_tls_context(options_.ca_file);
      ssl_ctx_ = std::move(shared.context);
      ca_error_ = shared.error;
    }
  }

  ~BeastHttpClient() override { close(); }

  Result<HttpResponse> send(const HttpRequest& request) override {
    if (ca_error_) {
      return fail(ErrorCode::internal, "cannot load CA certificates: " + ca_error_.message());
    }
    const http::verb verb = http::string_to_verb(request.method);
    if (verb == http::verb::unknown) {
      return fail(ErrorCode::invalid_input, "unknown HTTP method " + request.method);
    }
    http::request<http::string_body> req{verb, request.target, 11};
    req.set(http::field::host, host_);
    for (const auto& [name, value] : request.headers) req.insert(name, value);
    req.body() = request.body;
    req.keep_alive(options_.keep_alive);
    req.prepare_payload();

    const bool reused = connected_;
    if (!connected_) {
      if (auto c = connect(); !c) return std::unexpected(c.error());
    }
    error_code ec;
    auto response = exchange(req, ec);
    if (ec && reused && is_stale_connection(ec)) {
      // The server dropped the idle connection (DynamoDB does after a while): one new try.
      close();
      if (auto c = connect(); !c) return std::unexpected(c.error());
      response = exchange(req, ec);
    }
    if (ec) {
      close();
      return fail(ErrorCode::unavailable, describe("request", ec));
    }
    if (!options_.keep_alive || !response.keep_alive()) close();

    HttpResponse out;
    out.status = static_cast<int>(response.result_int());
    for (const auto& field : response) {
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = std::move(response.body());
    return out;
  }

  Result<void> warm_up() override {
    if (ca_error_) {
      return fail(ErrorCode::internal, "cannot load CA certificates: " + ca_error_.message());
    }
    if (connected_) return {};
    return connect();
  }

 private:
  std::string describe(std::string_view step, const error_code& ec) const {
    return std::string(step) + " to " + endpoint_.origin() + " failed: " + ec.message();
  }

  // Runs queued operations until `done`, or gives up after `limit` by cancelling them (the
  // resolver has no timeout of its own; the streams also have expires_after).
  void run_until(const bool& done, milliseconds limit) {
    ioc_.restart();
    ioc_.run_for(limit);
    if (!done) {
      resolver_.cancel();
      if (tls_) beast::get_lowest_layer(*tls_).cancel();
      if (plain_) plain_->cancel();
      ioc_.restart();
      ioc_.run();
    }
  }

  // A little longer than the stream's own timer, which is the one meant to fire.
  static milliseconds grace(milliseconds limit) { return limit + milliseconds{100}; }

  bool blocking() const { return options_.blocking && !endpoint_.tls; }

  Result<void> resolve(std::vector<tcp::endpoint>& out) {
    // An address needs no resolver (whose first use starts a thread): the Runtime API is
    // "127.0.0.1:9001", and the test peers are on loopback addresses too.
    if (literal_) {
      out.emplace_back(*literal_, endpoint_.port);
      return {};
    }
    error_code ec;
    if (blocking()) {
      for (const auto& r : resolver_.resolve(endpoint_.host, std::to_string(endpoint_.port), ec))
        out.push_back(r.endpoint());
      if (ec) return fail(ErrorCode::unavailable, describe("resolve", ec));
      return {};
    }
    bool done = false;
    resolver_.async_resolve(endpoint_.host, std::to_string(endpoint_.port),
                            [&](error_code e, const tcp::resolver::results_type& results) {
                              ec = e;
                              for (const auto& r : results) out.push_back(r.endpoint());
                              done = true;
                            });
    run_until(done, options_.connect_timeout);
    if (ec) return fail(ErrorCode::unavailable, describe("resolve", ec));
    return {};
  }

  Result<void> connect_tcp(beast::tcp_stream& stream, const std::vector<tcp::endpoint>& to) {
    error_code ec;
    if (blocking()) {
      // A socket that never sees an asynchronous operation stays in blocking mode: each later
      // send and receive is one system call.
      net::connect(stream.socket(), to, ec);
      if (ec) return fail_connect("connect", ec);
      stream.socket().set_option(tcp::no_delay(true), ec);
      return {};
    }
    bool done = false;
    stream.expires_after(options_.connect_timeout);
    stream.async_connect(to, [&](error_code e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    run_until(done, grace(options_.connect_timeout));
    if (ec) return fail_connect("connect", ec);
    // Requests are written whole and answered at once: Nagle would only add latency.
    stream.socket().set_option(tcp::no_delay(true), ec);
    return {};
  }

  Result<void> connect() {
    close();
    std::vector<tcp::endpoint> endpoints;
    if (auto r = resolve(endpoints); !r) return r;
    if (!endpoint_.tls) {
      plain_.emplace(ioc_);
      if (auto c = connect_tcp(*plain_, endpoints); !c) return c;
      connected_ = true;
      return {};
    }
    tls_.emplace(ioc_, *ssl_ctx_);
    // SNI and host name verification: without them a valid certificate for any name passes.
    if (!literal_ && !SSL_set_tlsext_host_name(tls_->native_handle(), endpoint_.host.c_str())) {
      return fail(ErrorCode::internal, "cannot set SNI for " + endpoint_.host);
    }
    tls_->set_verify_callback(ssl::host_name_verification(endpoint_.host));
    if (auto c = connect_tcp(beast::get_lowest_layer(*tls_), endpoints); !c) return c;
    bool done = false;
    error_code ec;
    tls_->async_handshake(ssl::stream_base::client, [&](error_code e) {
      ec = e;
      done = true;
    });
    run_until(done, grace(options_.connect_timeout));
    if (ec) return fail_connect("TLS handshake", ec);
    connected_ = true;
    return {};
  }

  Result<void> fail_connect(std::string_view step, const error_code& ec) {
    close();
    return fail(ErrorCode::unavailable, describe(step, ec));
  }

  template <class Stream>
  http::response<http::string_body> exchange_on(Stream& stream,
                                                http::request<http::string_body>& req,
                                                error_code& ec) {
    auto& tcp_layer = beast::get_lowest_layer(stream);
    http::response_parser<http::string_body> parser;
    parser.header_limit(header_limit);
    parser.body_limit(options_.max_body);
    // A HEAD response announces a length but carries no body.
    if (req.method() == http::verb::head) parser.skip(true);
    bool done = false;
    tcp_layer.expires_after(options_.read_timeout);
    // Header and body go out together: Beast serialises a string body with its header into
    // one gathered write (and ssl_stream flattens them into one TLS record).
    http::async_write(stream, req, [&](error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    run_until(done, grace(options_.read_timeout));
    if (ec) return {};
    done = false;
    http::async_read(stream, buffer_, parser, [&](error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    run_until(done, grace(options_.read_timeout));
    if (ec) return {};
    tcp_layer.expires_never();
    return parser.release();
  }

  // The blocking exchange (options.blocking): the same parser, plain socket calls, no timer.
  http::response<http::string_body> exchange_blocking(http::request<http::string_body>& req,
                                                      error_code& ec) {
    http::response_parser<http::string_body> parser;
    parser.header_limit(header_limit);
    parser.body_limit(options_.max_body);
    if (req.method() == http::verb::head) parser.skip(true);
    // One gathered write: header and body in one sendmsg.
    http::write(plain_->socket(), req, ec);
    if (ec) return {};
    http::read(plain_->socket(), buffer_, parser, ec);
    if (ec) return {};
    return parser.release();
  }

  http::response<http::string_body> exchange(http::request<http::string_body>& req,
                                             error_code& ec) {
    ec = {};
    if (tls_) return exchange_on(*tls_, req, ec);
    if (blocking()) return exchange_blocking(req, ec);
    return exchange_on(*plain_, req, ec);
  }

  void close() {
    // No TLS close_notify: AWS endpoints do not need it and it would cost a round trip.
    error_code ignored;
    if (tls_) {
      beast::get_lowest_layer(*tls_).socket().shutdown(tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(*tls_).close();
      tls_.reset();
    }
    if (plain_) {
      plain_->socket().shutdown(tcp::socket::shutdown_both, ignored);
      plain_->close();
      plain_.reset();
    }
    buffer_.clear();
    connected_ = false;
  }

  Endpoint endpoint_;
  HttpClientOptions options_;
  std::string host_;                         // the Host header, computed once
  std::optional<net::ip::address> literal_;  // the host, when it is an IP address
  net::io_context ioc_;
  tcp::resolver resolver_;
  std::shared_ptr<ssl::context> ssl_ctx_;
  error_code ca_error_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (ascii::iequals(k, name)) return v;
  }
  return std::nullopt;
}

std::unique_ptr<HttpClient> make_http_client(const Endpoint& endpoint,
                                             const HttpClientOptions& options) {
  return std::make_unique<BeastHttpClient>(endpoint, options);
}

std::optional<std::string> hashed_ca_dir(const EnvLookup& env) {
  std::vector<std::string> candidates;
  if (auto dir = env("SSL_CERT_DIR")) candidates.push_back(*dir);
  // AL2023 (ca-certificates' directory-hash) and Debian (c_rehash links in /etc/ssl/certs).
  candidates.emplace_back("/etc/pki/ca-trust/extracted/pem/directory-hash");
  candidates.emplace_back("/etc/ssl/certs");
  for (const auto& dir : candidates) {
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      // OpenSSL looks certificates up by "<subject hash>.0": one such name means a hashed
      // directory.
      const std::string name = it->path().filename().string();
      if (name.size() == 10 && name.ends_with(".0")) return dir;
    }
  }
  return std::nullopt;
}

std::optional<std::string> default_ca_file(const EnvLookup& env) {
  if (auto file = env("SSL_CERT_FILE")) return file;
  for (const char* path :
       {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"}) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return std::string(path);
  }
  return std::nullopt;
}

}  // namespace qr::aws
