#include "local/server.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <unistd.h>
#include <boost/asio.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <deque>
#include <fstream>
#include <thread>

#include "core/image_type.hpp"
#include "core/log.hpp"
#include "core/validators.hpp"
#include "crypto/crypto.hpp"
#include "functions/http_api_handler.hpp"
#include "functions/websocket_event_handler.hpp"
#include "local/disk_object_store.hpp"
#include "local/hub_notifier.hpp"
#include "local/sqlite_session_store.hpp"

namespace qr::local {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

constexpr auto header_timeout = std::chrono::seconds(30);
constexpr std::size_t max_api_body = 64 * 1024;
// How much of a refused request body a closing connection reads before it gives up on the client.
constexpr std::size_t max_drain_bytes = 64ull * 1024 * 1024;
constexpr auto sweep_interval = std::chrono::seconds(60);
// Expired sessions (and their images) are kept this long before they are swept.
constexpr std::int64_t sweep_grace_seconds = 3600;

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// How likely an interface address is the one a phone on the same Wi-Fi can reach: a private
// address on a physical-looking interface beats one on a container bridge or VPN.
int lan_score(std::string_view interface, const in_addr& address) {
  const std::uint32_t ip = ntohl(address.s_addr);
  const bool private_range = (ip >> 24) == 10 || (ip >> 20) == 0xAC1 || (ip >> 16) == 0xC0A8;
  bool virtual_interface = false;
  for (std::string_view prefix : {"docker", "br-", "veth", "virbr", "lxc", "cni", "flannel", "tun",
                                  "tap", "wg", "zt", "tailscale", "vmnet", "vboxnet"})
    if (interface.starts_with(prefix)) virtual_interface = true;
  return (private_range ? 2 : 0) + (virtual_interface ? 0 : 1);
}

std::string guess_public_url(const std::string& bind, std::uint16_t port) {
  std::string host = bind;
  if (bind == "0.0.0.0" || bind == "::" || bind.empty()) {
    host = "127.0.0.1";
    // A phone must reach us: pick the likeliest LAN address of this machine.
    ifaddrs* list = nullptr;
    int best = -1;
    if (getifaddrs(&list) == 0) {
      for (ifaddrs* a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
        if (!(a->ifa_flags & IFF_UP) || (a->ifa_flags & IFF_LOOPBACK)) continue;
        const auto* in = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
        char text[INET_ADDRSTRLEN];
        if (!inet_ntop(AF_INET, &in->sin_addr, text, sizeof text)) continue;
        if (const int score = lan_score(a->ifa_name ? a->ifa_name : "", in->sin_addr);
            score > best) {
          best = score;
          host = text;
        }
      }
      freeifaddrs(list);
    }
  }
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(port);
}

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

// Everything the sessions share: ports, settings, the hub. One per server.
struct Shared {
  ServerOptions options;
  SystemClock clock;
  crypto::OsRandom random;
  std::unique_ptr<SqliteSessionStore> sessions;
  std::unique_ptr<DiskObjectStore> objects;
  HubNotifier hub;
  handlers::Settings settings;
  std::string config_js;
  Logger log;  // server-level events only; requests get their own Logger

  std::string new_id() {
    unsigned char bytes[12];
    random.fill(std::as_writable_bytes(std::span(bytes)));
    return crypto::base64url(bytes);
  }

  // Runs one event through a router with a Logger of its own (Loggers are per request).
  template <class Router>
  json::object call(Router router, const json::value& event) {
    Logger request_log;
    handlers::Context ctx{*sessions, *objects, hub, clock, random, request_log, settings};
    return router(event, ctx).as_object();
  }
};

// Builds the API Gateway HTTP API (2.0) event for a request, as AWS would.
template <class Fields>
json::object http_event(const http::request_header<Fields>& req, std::string_view body,
                        const std::string& request_id, const std::string& source_ip) {
  const std::string_view target = req.target();
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view raw_query = q == std::string_view::npos ? "" : target.substr(q + 1);
  json::object headers;
  for (const auto& field : req) {
    const std::string name = lowercase(field.name_string());
    if (auto* existing = headers.if_contains(name))
      *existing = std::string(existing->as_string()) + "," + std::string(field.value());
    else
      headers[name] = std::string(field.value());
  }
  json::object query;
  for (const auto& [name, value] : aws::parse_query(raw_query)) {
    if (auto* existing = query.if_contains(name))
      *existing = std::string(existing->as_string()) + "," + value;
    else
      query[name] = value;
  }
  json::object event{{"version", "2.0"},
                     {"routeKey", "$default"},
                     {"rawPath", path},
                     {"rawQueryString", raw_query},
                     {"headers", std::move(headers)},
                     {"requestContext",
                      {{"http",
                        {{"method", std::string(req.method_string())},
                         {"path", path},
                         {"protocol", "HTTP/1.1"},
                         {"sourceIp", source_ip}}},
                       {"requestId", request_id},
                       {"routeKey", "$default"},
                       {"stage", "$default"}}},
                     {"isBase64Encoded", false}};
  if (!query.empty()) event["queryStringParameters"] = std::move(query);
  if (!body.empty()) event["body"] = body;
  return event;
}

// Turns a router's response document into an HTTP response.
http::response<http::string_body> from_router(const json::object& doc, unsigned version,
                                              bool keep_alive) {
  http::response<http::string_body> res;
  res.version(version);
  res.result(static_cast<unsigned>(doc.at("statusCode").to_number<std::int64_t>()));
  if (const auto* headers = doc.if_contains("headers"))
    for (const auto& [name, value] : headers->as_object()) res.set(name, value.as_string());
  if (const auto* body = doc.if_contains("body")) res.body() = body->as_string();
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

http::response<http::string_body> json_response(unsigned status, json::object body,
                                                unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(status), version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::access_control_allow_origin, "*");
  res.set(http::field::cache_control, "no-store");
  res.body() = json::serialize(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

http::response<http::string_body> error_json(unsigned status, std::string_view message,
                                             unsigned version, bool keep_alive) {
  return json_response(status, {{"error", message}}, version, keep_alive);
}

aws::SignableRequest signable(const http::request_header<>& req) {
  const std::string_view target = req.target();
  const auto q = target.find('?');
  aws::SignableRequest out;
  out.method = std::string(req.method_string());
  out.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) out.query = aws::parse_query(target.substr(q + 1));
  for (const auto& field : req)
    out.headers.emplace_back(lowercase(field.name_string()), std::string(field.value()));
  return out;
}

// ---------------------------------------------------------------------------------------------
// One WebSocket: registered in the hub before $connect runs, $disconnect when it closes.
class WebSocketSession final : public HubConnection,
                               public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(tcp::socket socket, std::shared_ptr<Shared> shared, std::string connection_id)
      : ws_(std::move(socket)), shared_(std::move(shared)), id_(std::move(connection_id)) {}

  // Accepts the upgrade that `req` asked for; queued messages go out once it is done.
  void accept(http::request<http::string_body> req) {
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(30);
    // Beast pings after half the idle time without traffic and closes a socket that stays silent.
    timeouts.idle_timeout = std::chrono::seconds(60);
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.read_message_max(4096);
    ws_.async_accept(req,
                     beast::bind_front_handler(&WebSocketSession::on_accept, shared_from_this()));
  }

  // The socket back, for a connection that $connect refused before the upgrade was accepted.
  tcp::socket take_socket() { return ws_.next_layer().release_socket(); }

  void send_text(std::string message) override {
    asio::post(ws_.get_executor(), [self = shared_from_this(), m = std::move(message)]() mutable {
      self->queue_.push_back(std::move(m));
      if (self->open_ && self->queue_.size() == 1) self->do_write();
    });
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) return closed();
    open_ = true;
    if (!queue_.empty()) do_write();
    do_read();
  }

  void do_read() {
    ws_.async_read(buffer_,
                   beast::bind_front_handler(&WebSocketSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return closed();
    // The desktop has nothing to say; messages are read only to see the socket is alive.
    buffer_.consume(buffer_.size());
    do_read();
  }

  void do_write() {
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_.front()),
                    beast::bind_front_handler(&WebSocketSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return closed();
    queue_.pop_front();
    if (!queue_.empty()) do_write();
  }

  void closed() {
    if (closed_) return;
    closed_ = true;
    open_ = false;
    shared_->hub.remove(id_);
    const json::object event{{"requestContext",
                              {{"routeKey", "$disconnect"},
                               {"eventType", "DISCONNECT"},
                               {"connectionId", id_},
                               {"requestId", shared_->new_id()}}}};
    shared_->call(functions::websocket_event_handler, event);
  }

  websocket::stream<beast::tcp_stream> ws_;
  std::shared_ptr<Shared> shared_;
  std::string id_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  bool open_ = false;
  bool closed_ = false;
};

// ---------------------------------------------------------------------------------------------
// One HTTP connection: reads a header, picks a route, reads the body the route wants.
class HttpSession final : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {
    beast::error_code ec;
    const auto remote = stream_.socket().remote_endpoint(ec);
    if (!ec) source_ip_ = remote.address().to_string();
  }

  void start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&HttpSession::do_read_header, shared_from_this()));
  }

 private:
  void do_read_header() {
    header_parser_.emplace();
    header_parser_->header_limit(16 * 1024);
    // Beast's default 1 MiB body limit would be checked against Content-Length as soon as the
    // header is parsed, before a route can answer; each route sets its own limit instead.
    header_parser_->body_limit(boost::none);
    stream_.expires_after(header_timeout);
    http::async_read_header(stream_, buffer_, *header_parser_,
                            beast::bind_front_handler(&HttpSession::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec) return close();
    const auto& req = header_parser_->get();
    const std::string_view target = req.target();
    const std::string_view path = target.substr(0, target.find('?'));
    if (websocket::is_upgrade(req) && path == "/ws") return read_small_body(&HttpSession::upgrade);
    if (path.starts_with(DiskObjectStore::url_prefix) && req.method() == http::verb::put)
      return start_upload();
    return read_small_body(&HttpSession::dispatch);
  }

  using Next = void (HttpSession::*)(http::request<http::string_body>);

  void read_small_body(Next next) {
    if (auto length = header_parser_->content_length(); length && *length > max_api_body)
      return reply(
          error_json(413, "Request body too large", header_parser_->get().version(), false));
    body_parser_.emplace(std::move(*header_parser_));
    body_parser_->body_limit(max_api_body);
    stream_.expires_after(std::chrono::seconds(shared_->options.idle_timeout_seconds));
    http::async_read(stream_, buffer_, *body_parser_,
                     [self = shared_from_this(), next](beast::error_code ec, std::size_t) {
                       if (ec == http::error::body_limit)
                         return self->reply(error_json(413, "Request body too large", 11, false));
                       if (ec) return self->close();
                       ((*self).*next)(self->body_parser_->release());
                     });
  }

  // API routes go through the HTTP API router; the rest are pages and downloads.
  void dispatch(http::request<http::string_body> req) {
    const std::string_view target = req.target();
    const std::string path(target.substr(0, target.find('?')));
    const bool keep = req.keep_alive();
    if (path == "/sessions" || path.starts_with("/sessions/") || path == "/upload-url") {
      const auto event = http_event(req, req.body(), shared_->new_id(), source_ip_);
      return reply(
          from_router(shared_->call(functions::http_api_handler, event), req.version(), keep));
    }
    if (req.method() != http::verb::get && req.method() != http::verb::head)
      return reply(error_json(405, "Method Not Allowed", req.version(), keep));
    if (path.starts_with(DiskObjectStore::url_prefix)) return download(req);
    if (path == "/config.js") {
      http::response<http::string_body> res{http::status::ok, req.version()};
      res.set(http::field::content_type, "text/javascript; charset=utf-8");
      res.set(http::field::cache_control, "no-store");
      res.body() = shared_->config_js;
      res.keep_alive(keep);
      res.prepare_payload();
      return reply(std::move(res));
    }
    return static_file(req, path);
  }

  void static_file(const http::request<http::string_body>& req, std::string_view path) {
    std::string name(path == "/" ? "index.html" : path.substr(1));
    if (name == "phone") name = "phone.html";
    // Only plain file names directly inside web/: nothing else on disk can be named.
    const bool plain = !name.empty() && name.front() != '.' &&
                       name.find_first_not_of(
                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
                           std::string::npos;
    const fs::path file = shared_->options.web_dir / name;
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

  void download(const http::request<http::string_body>& req) {
    const unsigned v = req.version();
    const bool keep = req.keep_alive();
    const auto request = signable(req);
    const std::string key = request.path.substr(DiskObjectStore::url_prefix.size());
    const auto file = shared_->objects->path_for(key);
    if (!file) return reply(error_json(404, "Not Found", v, keep));
    if (auto ok = shared_->objects->verify(request); !ok)
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

  // PUT /objects/<key>: checked before a byte of the body is read, then streamed to a temporary
  // file in constant memory, renamed into place only when complete, then announced as S3 would.
  void start_upload() {
    auto& req = header_parser_->get();
    const unsigned v = req.version();
    const auto request = signable(req);
    upload_key_ = request.path.substr(DiskObjectStore::url_prefix.size());
    if (!shared_->objects->path_for(upload_key_))
      return reply(error_json(400, "Invalid key", v, false));
    if (auto ok = shared_->objects->verify(request); !ok)
      return reply(error_json(403, "Forbidden: " + ok.error().detail, v, false));
    const auto max = shared_->options.max_upload_bytes;
    if (auto length = header_parser_->content_length(); length && *length > max)
      return reply(error_json(413, "File too large", v, false));

    // Room for 64 KiB reads: Beast sizes each read by the buffer's free capacity, and the buffer
    // left by the header would make a 20 MB upload 40,000 reads and writes of 512 bytes.
    buffer_.reserve(64 * 1024);
    upload_parser_.emplace(std::move(*header_parser_));
    upload_parser_->body_limit(max);
    temp_ = shared_->objects->temp_path();
    beast::error_code ec;
    upload_parser_->get().body().open(temp_.c_str(), beast::file_mode::write_new, ec);
    if (ec) {
      shared_->log.error("cannot open upload file",
                         {{"path", temp_.string()}, {"error", ec.message()}});
      return reply(error_json(500, "Internal server error", v, false));
    }
    if (beast::iequals(upload_parser_->get()[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, v);
      http::async_write(stream_, *cont,
                        [self = shared_from_this(), cont](beast::error_code ec, std::size_t) {
                          if (ec) return self->abort_upload();
                          self->read_upload();
                        });
      return;
    }
    read_upload();
  }

  void read_upload() {
    // A deadline per read, not per upload: a slow phone keeps going, a silent one (walked away,
    // lost signal) is cut off after the idle timeout.
    stream_.expires_after(std::chrono::seconds(shared_->options.idle_timeout_seconds));
    http::async_read_some(stream_, buffer_, *upload_parser_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            if (ec == http::error::body_limit) {
                              self->discard_upload();
                              return self->reply(error_json(413, "File too large", 11, false));
                            }
                            if (ec) return self->abort_upload();
                            if (!self->upload_parser_->is_done()) return self->read_upload();
                            self->finish_upload();
                          });
  }

  // Drops what was received so far; nothing of it ever becomes an object.
  void discard_upload() {
    if (upload_parser_) upload_parser_->get().body().close();
    std::error_code ec;
    fs::remove(temp_, ec);
  }

  void abort_upload() {
    discard_upload();
    close();
  }

  void finish_upload() {
    auto& req = upload_parser_->get();
    const unsigned v = req.version();
    const bool keep = req.keep_alive();
    req.body().close();
    std::error_code size_ec;
    const auto size = fs::file_size(temp_, size_ec);
    if (auto committed = shared_->objects->commit(temp_, upload_key_); !committed) {
      std::error_code ec;
      fs::remove(temp_, ec);
      // Objects are write-once: a second PUT to a used URL cannot replace a checked image.
      if (committed.error().code == ErrorCode::already_exists)
        return reply(error_json(409, "Object already exists", v, keep));
      shared_->log.error("cannot store upload",
                         {{"key", upload_key_}, {"error", committed.error().detail}});
      return reply(error_json(500, "Internal server error", v, keep));
    }
    // Announce it exactly as S3 would: an ObjectCreated record with the form-encoded key.
    const json::object event{
        {"Records",
         json::array{json::object{
             {"eventVersion", "2.1"},
             {"eventSource", "qr-upload:local"},
             {"eventName", "ObjectCreated:Put"},
             {"s3",
              {{"bucket", {{"name", "local"}}},
               {"object", {{"key", aws::uri_encode(upload_key_, true)}, {"size", size}}}}}}}}};
    const auto result = shared_->call(functions::websocket_event_handler, event);
    const auto body = json::parse(result.at("body").as_string()).as_object();
    if (result.at("statusCode").to_number<int>() != 200)
      return reply(error_json(500, "Internal server error", v, keep));
    // Locally the check runs before the PUT is answered, so the phone learns the verdict at once.
    if (const auto* rejections = body.if_contains("rejections");
        rejections && !rejections->as_array().empty())
      return reply(
          error_json(422, rejections->as_array()[0].as_object().at("reason").as_string(), v, keep));
    reply(json_response(200, {{"uploadKey", upload_key_}, {"size", size}}, v, keep));
  }

  void upgrade(http::request<http::string_body> req) {
    const std::string connection_id = shared_->new_id();
    auto session =
        std::make_shared<WebSocketSession>(stream_.release_socket(), shared_, connection_id);
    shared_->hub.add(connection_id, session);
    const std::string_view target = req.target();
    const auto q = target.find('?');
    json::object query;
    if (q != std::string_view::npos)
      for (const auto& [name, value] : aws::parse_query(target.substr(q + 1))) query[name] = value;
    json::object event{{"requestContext",
                        {{"routeKey", "$connect"},
                         {"eventType", "CONNECT"},
                         {"connectionId", connection_id},
                         {"requestId", shared_->new_id()}}}};
    if (!query.empty()) event["queryStringParameters"] = std::move(query);
    const auto result = shared_->call(functions::websocket_event_handler, event);
    const int status = result.at("statusCode").to_number<int>();
    if (status != 200) {
      shared_->hub.remove(connection_id);
      // Refused as API Gateway refuses: an HTTP answer instead of the upgrade.
      auto res = std::make_shared<http::response<http::string_body>>(
          static_cast<http::status>(status), req.version());
      res->set(http::field::content_type, "application/json");
      res->body() = result.at("body").as_string();
      res->keep_alive(false);
      res->prepare_payload();
      auto socket = std::make_shared<beast::tcp_stream>(session->take_socket());
      http::async_write(*socket, *res, [socket, res](beast::error_code, std::size_t) {
        beast::error_code ec;
        socket->socket().shutdown(tcp::socket::shutdown_send, ec);
      });
      return;
    }
    session->accept(std::move(req));
  }

  template <class Response>
  void reply(Response&& response) {
    auto res = std::make_shared<std::decay_t<Response>>(std::forward<Response>(response));
    const bool keep = res->keep_alive();
    stream_.expires_after(header_timeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep](beast::error_code ec, std::size_t) {
                        if (ec || !keep) return self->close();
                        self->do_read_header();
                      });
  }

  // A lingering close: stop sending, then read and discard what the client is still sending
  // (an oversized upload) for a bounded time. Closing with unread data would make the kernel
  // send a reset, and the client would lose the error response it was just sent.
  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(5));
    drain();
  }

  void drain() {
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

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<Shared> shared_;
  std::string source_ip_;
  std::optional<http::request_parser<http::empty_body>> header_parser_;
  std::optional<http::request_parser<http::string_body>> body_parser_;
  std::optional<http::request_parser<http::file_body>> upload_parser_;
  std::string upload_key_;
  fs::path temp_;
  std::string drain_buffer_;
  std::size_t drained_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Accepts connections and sweeps expired sessions.
class ServerImpl final : public Server {
 public:
  ServerImpl(std::shared_ptr<Shared> shared, tcp::acceptor acceptor, asio::io_context& io)
      : shared_(std::move(shared)), acceptor_(std::move(acceptor)), io_(io), sweep_timer_(io) {}

  std::uint16_t port() const override { return port_; }
  const std::string& public_url() const override { return shared_->options.public_url; }

  void set_port(std::uint16_t port) { port_ = port; }

  void run() override {
    do_accept();
    schedule_sweep(std::chrono::seconds(0));
    std::vector<std::thread> threads;
    for (int i = 1; i < shared_->options.threads; ++i) threads.emplace_back([this] { io_.run(); });
    io_.run();
    for (auto& t : threads) t.join();
  }

  void stop() override { io_.stop(); }

 private:
  void do_accept() {
    acceptor_.async_accept(
        asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted) return;
          if (!ec) {
            std::make_shared<HttpSession>(std::move(socket), shared_)->start();
            return do_accept();
          }
          // Out of file descriptors (EMFILE) and the like: the pending connection stays queued, so
          // accepting again at once would spin. Say so, wait a moment, then try again.
          shared_->log.warn("accept failed; retrying shortly", {{"error", ec.message()}});
          accept_retry_timer_.expires_after(std::chrono::milliseconds(100));
          accept_retry_timer_.async_wait([this](beast::error_code wait_ec) {
            if (!wait_ec) do_accept();
          });
        });
  }

  void schedule_sweep(std::chrono::seconds after) {
    sweep_timer_.expires_after(after);
    sweep_timer_.async_wait([this](beast::error_code ec) {
      if (ec) return;
      const auto cutoff = shared_->clock.now_seconds() - sweep_grace_seconds;
      if (auto swept = shared_->sessions->sweep_expired(cutoff); swept) {
        for (const auto& id : *swept)
          if (is_uuid(id)) shared_->objects->remove_session(id);
        if (!swept->empty())
          shared_->log.info("swept expired sessions", {{"count", swept->size()}});
      } else {
        shared_->log.error("sweeping expired sessions failed", {{"error", swept.error().detail}});
      }
      schedule_sweep(sweep_interval);
    });
  }

  std::shared_ptr<Shared> shared_;
  tcp::acceptor acceptor_;
  asio::io_context& io_;
  asio::steady_timer sweep_timer_;
  asio::steady_timer accept_retry_timer_{io_};
  std::uint16_t port_ = 0;
};

// Owns the io_context so that it outlives every object that refers to it.
class OwningServer final : public Server {
 public:
  std::uint16_t port() const override { return impl_->port(); }
  const std::string& public_url() const override { return impl_->public_url(); }
  void run() override { impl_->run(); }
  void stop() override { impl_->stop(); }

  asio::io_context io_{2};
  std::unique_ptr<ServerImpl> impl_;
};

std::string make_config_js(const ServerOptions& options) {
  // Same-origin API and WebSocket; only the phone's URL must be one a phone can reach.
  const json::object config{{"apiBase", ""},
                            {"wsUrl", ""},
                            {"phoneUrl", options.public_url + "/phone.html"},
                            {"maxUploadBytes", options.max_upload_bytes}};
  return "window.QR_UPLOAD_CONFIG = " + json::serialize(config) + ";\n";
}

}  // namespace

Result<std::unique_ptr<Server>> Server::start(ServerOptions options) {
  std::error_code fs_ec;
  fs::create_directories(options.data_dir, fs_ec);
  if (fs_ec)
    return fail(ErrorCode::internal, "cannot create data directory " + options.data_dir.string() +
                                         ": " + fs_ec.message());
  if (::access(options.data_dir.c_str(), W_OK) != 0)
    return fail(ErrorCode::internal,
                "data directory " + options.data_dir.string() + " is not writable");
  if (!fs::exists(options.web_dir / "index.html"))
    return fail(ErrorCode::internal, "web pages not found in " + options.web_dir.string() +
                                         " (set --web-dir or QR_UPLOAD_WEB_DIR)");

  auto server = std::make_unique<OwningServer>();
  beast::error_code ec;
  const auto address = asio::ip::make_address(options.bind_address, ec);
  if (ec) return fail(ErrorCode::invalid_input, "invalid bind address " + options.bind_address);
  tcp::acceptor acceptor(server->io_);
  const tcp::endpoint endpoint(address, options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (ec) {
    std::string hint = ec == asio::error::address_in_use
                           ? " (another program uses it; choose another with --port)"
                       : ec == asio::error::access_denied ? " (ports below 1024 need privileges)"
                                                          : "";
    return fail(ErrorCode::unavailable, "cannot listen on " + options.bind_address + ":" +
                                            std::to_string(options.port) + ": " + ec.message() +
                                            hint);
  }
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ErrorCode::unavailable, "cannot listen: " + ec.message());
  const auto port = acceptor.local_endpoint().port();
  if (options.public_url.empty()) options.public_url = guess_public_url(options.bind_address, port);
  while (options.public_url.ends_with('/')) options.public_url.pop_back();

  auto shared = std::make_shared<Shared>();
  shared->options = options;
  shared->settings.max_upload_bytes = options.max_upload_bytes;
  shared->settings.session_ttl_seconds = options.session_ttl_seconds;
  shared->settings.upload_url_ttl_seconds = options.upload_url_ttl_seconds;
  shared->config_js = make_config_js(options);
  auto sessions = SqliteSessionStore::open(options.data_dir / "sessions.db");
  if (!sessions) return std::unexpected(sessions.error());
  shared->sessions = std::move(*sessions);
  // No WebSocket survives a restart: forget the connections the database remembers.
  if (auto cleared = shared->sessions->clear_connections(); !cleared)
    return std::unexpected(cleared.error());
  auto objects = DiskObjectStore::open(options.data_dir, options.public_url, shared->clock);
  if (!objects) return std::unexpected(objects.error());
  shared->objects = std::move(*objects);

  server->impl_ = std::make_unique<ServerImpl>(shared, std::move(acceptor), server->io_);
  server->impl_->set_port(port);
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace qr::local
