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

HttpSession::HttpSession(tcp::socket socket, std::shared_ptr<SharedState> state)
    : stream_(std::move(socket)), state_(std::move(state)) {
  beast::error_code ec;
  const auto remote = stream_.socket().remote_endpoint(ec);
  if (!ec) source_ip_ = remote.address().to_string();
}

void HttpSession::start() {
  asio::dispatch(stream_.get_executor(),
                 beast::bind_front_handler(&HttpSession::do_read_header, shared_from_this()));
}

void HttpSession::do_read_header() {
  header_parser_.emplace();
  header_parser_->header_limit(16 * 1024);
  // Beast's default 1 MiB body limit would be checked against Content-Length as soon as the
  // header is parsed, before a route can answer; each route sets its own limit instead.
  header_parser_->body_limit(boost::none);
  stream_.expires_after(header_timeout);
  http::async_read_header(stream_, buffer_, *header_parser_,
                          beast::bind_front_handler(&HttpSession::on_header, shared_from_this()));
}

void HttpSession::on_header(beast::error_code ec, std::size_t) {
  if (ec) return close();
  const auto& req = header_parser_->get();
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
  stream_.expires_after(std::chrono::seconds(state_->options.idle_timeout_seconds));
  http::async_read(stream_, buffer_, *body_parser_,
                   [self = shared_from_this(), next](beast::error_code ec, std::size_t) {
                     if (ec == http::error::body_limit)
                       return self->reply(error_json(413, "Request body too large", 11, false));
                     if (ec) return self->close();
                     ((*self).*next)(self->body_parser_->release());
                   });
}

// API routes go through the HTTP API router, as API Gateway would send them; the rest are pages
// and downloads, which CloudFront and S3 serve on AWS.
void HttpSession::dispatch(Request req) {
  const std::string_view path = target_path(req.target());
  const bool keep = req.keep_alive();
  if (functions::is_http_api_path(path)) {
    const LocalRequest local{req.method_string(), req.target(),     fields_of(req),
                             req.body(),          state_->new_id(), source_ip_};
    return reply(from_router(state_->call(functions::http_api_handler, http_api_event(local)),
                             req.version(), keep));
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
  if (req.method() == http::verb::head) res.body().close();
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
  auto session =
      std::make_shared<WebSocketSession>(stream_.release_socket(), state_, state_->new_id());
  session->start(std::move(req));
}

template <class Response>
void HttpSession::reply(Response&& response) {
  auto res = std::make_shared<std::decay_t<Response>>(std::forward<Response>(response));
  const bool keep = res->keep_alive();
  stream_.expires_after(header_timeout);
  http::async_write(stream_, *res,
                    [self = shared_from_this(), res, keep](beast::error_code ec, std::size_t) {
                      if (ec || !keep) return self->close();
                      self->do_read_header();
                    });
}

// A lingering close: stop sending, then read and discard what the client is still sending (an
// oversized upload) for a bounded time. Closing with unread data would make the kernel send a
// reset, and the client would lose the error response it was just sent.
void HttpSession::close() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.expires_after(std::chrono::seconds(5));
  drain();
}

void HttpSession::drain() {
  drain_buffer_.resize(16 * 1024);
  stream_.async_read_some(asio::buffer(drain_buffer_),
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                            self->drained_ += n;
                            if (ec || self->drained_ > max_drain_bytes) {
                              beast::error_code ignored;
                              self->stream_.socket().close(ignored);
                              return;
                            }
                            self->drain();
                          });
}

}  // namespace qr::local
