#include "local/http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <fstream>

#include "core/image_type.hpp"
#include "functions/http_api_handler.hpp"
#include "local/upload_receiver.hpp"
#include "local/websocket_session.hpp"

namespace qr::local {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

namespace {

constexpr auto header_timeout = std::chrono::seconds(30);
constexpr std::size_t max_api_body = 64 * 1024;
// How much of a refused request body a closing connection reads before it gives up on the client.
constexpr std::size_t max_drain_bytes = 64ull * 1024 * 1024;

std::string_view mime_for(const fs::path& file) {
  const std::string ext = file.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".json" || ext == ".webmanifest") return "application/json";
  return "application/octet-stream";
}

}  // namespace

namespace {
Stream make_stream(tcp::socket socket, asio::ssl::context* tls) {
  if (tls) return Stream(beast::tcp_stream(std::move(socket)), *tls);
  return Stream(beast::tcp_stream(std::move(socket)));
}
}  // namespace

HttpSession::HttpSession(tcp::socket socket, std::shared_ptr<SharedState> state,
                         std::shared_ptr<Edge> edge, ConnectionCount::Slot slot,
                         asio::ssl::context* tls)
    : stream_(make_stream(std::move(socket), tls)),
      state_(std::move(state)),
      edge_(std::move(edge)),
      slot_(std::move(slot)) {
  beast::error_code ec;
  const auto remote = stream_.tcp().socket().remote_endpoint(ec);
  if (!ec) source_ip_ = remote.address().to_string();
}

void HttpSession::start() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    // A client that never finishes the handshake is cut off like one that never sends a header.
    self->stream_.tcp().expires_after(std::chrono::seconds(10));
    self->stream_.async_handshake(
        beast::bind_front_handler(&HttpSession::on_handshake, self->shared_from_this()));
  });
}

void HttpSession::on_handshake(beast::error_code ec) {
  if (ec) {
    beast::error_code ignored;
    stream_.tcp().socket().close(ignored);
    return;
  }
  do_read_header();
}

void HttpSession::do_read_header() {
  header_parser_.emplace();
  header_parser_->header_limit(16 * 1024);
  // Beast's default 1 MiB body limit would be checked against Content-Length as soon as the
  // header is parsed, before a route can answer; each route sets its own limit instead.
  header_parser_->body_limit(boost::none);
  stream_.tcp().expires_after(header_timeout);
  http::async_read_header(stream_, buffer_, *header_parser_,
                          beast::bind_front_handler(&HttpSession::on_header, shared_from_this()));
}

void HttpSession::on_header(beast::error_code ec, std::size_t) {
  origin_.clear();
  host_.clear();
  head_ = page_ = false;
  if (ec == http::error::header_limit) return refuse(431, "Request header fields too large");
  // A request Beast cannot parse gets a 400 and the connection closes (what follows it cannot be
  // trusted to start a request); a client that went away or stayed silent gets nothing.
  if (ec && ec.category() == make_error_code(http::error::bad_method).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message)
    return refuse(400, "Bad Request");
  if (ec) return close();
  const auto& req = header_parser_->get();
  origin_ = req[http::field::origin];
  host_ = req[http::field::host];
  head_ = req.method() == http::verb::head;
  if (auto refusal = edge_->policy.check(req)) return refuse(refusal->status, refusal->message);
  const std::string_view path = target_path(req.target());
  if (beast::websocket::is_upgrade(req) && path == "/ws")
    return read_small_body(&HttpSession::upgrade);
  if (path.starts_with(DiskObjectStore::url_prefix) && req.method() == http::verb::put)
    return start_upload();
  read_small_body(&HttpSession::dispatch);
}

void HttpSession::read_small_body(Next next) {
  if (auto length = header_parser_->content_length(); length && *length > max_api_body)
    return reply(error_json(413, "Request body too large", header_parser_->get().version(), false));
  body_parser_.emplace(std::move(*header_parser_));
  body_parser_->body_limit(max_api_body);
  stream_.tcp().expires_after(std::chrono::seconds(state_->options.idle_timeout_seconds));
  http::async_read(stream_, buffer_, *body_parser_,
                   [self = shared_from_this(), next](beast::error_code ec, std::size_t) {
                     if (ec == http::error::body_limit)
                       return self->reply(error_json(413, "Request body too large", 11, false));
                     if (ec &&
                         ec.category() == make_error_code(http::error::bad_chunk).category() &&
                         ec != http::error::end_of_stream && ec != http::error::partial_message)
                       return self->refuse(400, "Bad Request");
                     if (ec) return self->close();
                     ((*self).*next)(self->body_parser_->release());
                   });
}

// API routes go through the HTTP API router, as API Gateway would send them; the rest are pages
// and downloads, which CloudFront and S3 serve on AWS.
void HttpSession::dispatch(Request req) {
  const std::string_view path = target_path(req.target());
  const bool keep = req.keep_alive();
  if (functions::is_http_api_path(path)) return api(std::move(req));
  // The preflight of a page on an --allowed-origin that PUTs to a signed URL, as the bucket's
  // CORS rules answer it on AWS (the origin itself was checked with the header).
  if (path.starts_with(DiskObjectStore::url_prefix) && req.method() == http::verb::options) {
    StringResponse res{http::status::no_content, req.version()};
    res.set(http::field::access_control_allow_origin, edge_->policy.allow_origin(origin_, host_));
    res.set(http::field::access_control_allow_methods, "GET, PUT, HEAD");
    res.set(http::field::access_control_allow_headers, "Content-Type");
    res.set(http::field::access_control_max_age, "600");
    res.keep_alive(keep);
    res.prepare_payload();
    return reply(std::move(res));
  }
  if (req.method() != http::verb::get && req.method() != http::verb::head)
    return reply(error_json(405, "Method Not Allowed", req.version(), keep));
  if (path.starts_with(DiskObjectStore::url_prefix)) return download(req);
  if (path == "/config.js") {
    StringResponse res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/javascript; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.body() = state_->config_js;
    res.keep_alive(keep);
    res.prepare_payload();
    return reply(std::move(res));
  }
  static_file(req, path);
}

// The HTTP API router, behind the limits that keep one client from filling the store: requests per
// client address for the two routes that create state, and a cap on sessions open at once.
void HttpSession::api(Request req) {
  const std::string_view path = target_path(req.target());
  const unsigned v = req.version();
  const bool keep = req.keep_alive();
  const bool creates = req.method() == http::verb::post && path == "/sessions";
  const bool claims = req.method() == http::verb::get && path == "/upload-url";
  const bool looks_up = req.method() == http::verb::get && path.starts_with("/c/");
  const auto limited = [&](unsigned status, std::string message, unsigned retry_after) {
    auto res = error_json(status, message, v, keep);
    res.set(http::field::retry_after, std::to_string(retry_after));
    return reply(std::move(res));
  };
  if (creates || claims || looks_up) {
    auto& limit = creates  ? edge_->create_limit
                  : claims ? edge_->upload_url_limit
                           : edge_->short_code_limit;
    if (auto wait = limit.take(source_ip_)) {
      state_->log.warn("rate limited", {{"path", path}, {"sourceIp", source_ip_}});
      return limited(429, "Too many requests; try again in " + std::to_string(*wait) + " s", *wait);
    }
  }
  if (creates) {
    if (auto wait = edge_->open_sessions.full(state_->clock.now_seconds())) {
      state_->log.warn("too many open sessions", {{"sourceIp", source_ip_}});
      return limited(503, "Too many open sessions; try again later", *wait);
    }
  }
  const LocalRequest local{req.method_string(), req.target(),     fields_of(req),
                           req.body(),          state_->new_id(), source_ip_};
  auto answer = state_->call(functions::http_api_handler, http_api_event(local));
  if (creates && answer.status == 200)
    edge_->open_sessions.created(state_->clock.now_seconds() +
                                 state_->settings.session_ttl_seconds);
  reply(from_router(answer, v, keep));
}

void HttpSession::static_file(const Request& req, std::string_view path) {
  std::string name(path == "/" ? "index.html" : path.substr(1));
  if (name == "phone") name = "phone.html";
  // Only plain file names directly inside web/: nothing else on disk can be named.
  const bool plain =
      !name.empty() && name.front() != '.' &&
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
          std::string::npos;
  const fs::path file = state_->options.web_dir / name;
  beast::error_code ec;
  http::file_body::value_type body;
  if (plain) body.open(file.c_str(), beast::file_mode::scan, ec);
  if (!plain || ec) return reply(error_json(404, "Not Found", req.version(), req.keep_alive()));
  http::response<http::file_body> res{std::piecewise_construct, std::make_tuple(std::move(body)),
                                      std::make_tuple(http::status::ok, req.version())};
  res.set(http::field::content_type, mime_for(file));
  res.set(http::field::cache_control, "no-cache");
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  page_ = file.extension() == ".html";
  reply(std::move(res));
}

void HttpSession::download(const Request& req) {
  const unsigned v = req.version();
  const bool keep = req.keep_alive();
  const auto request = signable_request(req.method_string(), req.target(), fields_of(req));
  const std::string key = request.path.substr(DiskObjectStore::url_prefix.size());
  const auto file = state_->objects->path_for(key);
  if (!file) return reply(error_json(404, "Not Found", v, keep));
  if (auto ok = state_->objects->verify(request); !ok)
    return reply(error_json(403, "Forbidden: " + ok.error().detail, v, keep));
  beast::error_code ec;
  http::file_body::value_type body;
  body.open(file->c_str(), beast::file_mode::scan, ec);
  if (ec) return reply(error_json(404, "Not Found", v, keep));
  std::string head(constants::sniff_bytes, '\0');
  {
    std::ifstream in(*file, std::ios::binary);
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
  }
  http::response<http::file_body> res{std::piecewise_construct, std::make_tuple(std::move(body)),
                                      std::make_tuple(http::status::ok, v)};
  res.set(http::field::content_type, sniff_image_type(head).value_or("application/octet-stream"));
  res.set(http::field::cache_control, "private, max-age=900");
  res.set(http::field::access_control_allow_origin, "*");
  res.set("X-Content-Type-Options", "nosniff");
  // As S3 answers response-content-disposition: the signature covers it, so it is the server's
  // own words (the photo's original name), not the client's.
  for (const auto& [name, value] : request.query)
    if (name == "response-content-disposition") res.set(http::field::content_disposition, value);
  res.keep_alive(keep);
  res.prepare_payload();
  reply(std::move(res));
}

void HttpSession::start_upload() {
  upload_ = std::make_shared<UploadReceiver>(stream_, buffer_, std::move(*header_parser_), state_);
  upload_->start([self = shared_from_this()](std::optional<StringResponse> answer) {
    self->upload_.reset();
    if (!answer) return self->close();
    self->reply(std::move(*answer));
  });
}

void HttpSession::upgrade(Request req) {
  auto session = std::make_shared<WebSocketSession>(std::move(stream_), state_, edge_,
                                                    std::move(slot_), state_->new_id());
  session->start(std::move(req));
}

// Every answer leaves through here: it gets the edge's headers (Date, CORS for this origin only,
// the security headers), and only its header when the request was HEAD.
template <class Response>
void HttpSession::reply(Response&& response) {
  using Message = std::decay_t<Response>;
  auto res = std::make_shared<Message>(std::forward<Response>(response));
  finish_headers(res->base(), edge_->policy, origin_, host_, page_);
  const bool keep = res->keep_alive();
  stream_.tcp().expires_after(header_timeout);
  auto next = [self = shared_from_this(), res, keep](beast::error_code ec, std::size_t) {
    if (ec || !keep) return self->close();
    self->do_read_header();
  };
  if (head_) {
    // Content-Length stays that of the GET (RFC 9110); no body follows.
    auto serializer =
        std::make_shared<http::response_serializer<typename Message::body_type>>(*res);
    http::async_write_header(
        stream_, *serializer,
        [serializer, next = std::move(next)](beast::error_code ec, std::size_t n) { next(ec, n); });
    return;
  }
  http::async_write(stream_, *res, std::move(next));
}

// An answer after which the connection closes: the request's body (if any) was not read.
void HttpSession::refuse(unsigned status, std::string_view message) {
  reply(error_json(status, message, 11, false));
}

// A lingering close: stop sending, then read and discard what the client is still sending (an
// oversized upload) for a bounded time. Closing with unread data would make the kernel send a
// reset, and the client would lose the error response it was just sent.
void HttpSession::close() {
  beast::error_code ec;
  // (Under TLS too: the answer was whole, and the rest of the connection is only discarded.)
  stream_.tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.tcp().expires_after(std::chrono::seconds(5));
  drain();
}

void HttpSession::drain() {
  drain_buffer_.resize(16 * 1024);
  stream_.tcp().async_read_some(asio::buffer(drain_buffer_),
                                [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                  self->drained_ += n;
                                  if (ec || self->drained_ > max_drain_bytes) {
                                    beast::error_code ignored;
                                    self->stream_.tcp().socket().close(ignored);
                                    return;
                                  }
                                  self->drain();
                                });
}

}  // namespace qr::local
