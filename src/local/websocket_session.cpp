#include "local/websocket_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket.hpp>

#include "functions/websocket_event_handler.hpp"
#include "local/http_messages.hpp"

namespace qr::local {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

WebSocketSession::WebSocketSession(Stream stream, std::shared_ptr<SharedState> state,
                                   std::shared_ptr<Edge> edge, ConnectionCount::Slot slot,
                                   std::string connection_id)
    : ws_(std::move(stream)),
      state_(std::move(state)),
      edge_(std::move(edge)),
      slot_(std::move(slot)),
      id_(std::move(connection_id)) {}

WebSocketSession::~WebSocketSession() {
  if (!counted_session_.empty()) edge_->sockets.remove(counted_session_);
}

void WebSocketSession::start(http::request<http::string_body> request) {
  origin_ = request[http::field::origin];
  host_ = request[http::field::host];
  // The desktop and a few more: a session is not a way to hold thousands of sockets open.
  std::string session_id;
  for (const auto& [name, value] : aws::parse_query(target_query(request.target())))
    if (name == "sessionId") session_id = value;
  if (!session_id.empty()) {
    if (!edge_->sockets.add(session_id))
      return refuse({429, {}, R"({"error":"Too many connections to this session"})"},
                    request.version());
    counted_session_ = session_id;
  }
  state_->hub.add(id_, weak_from_this());
  const auto answer = state_->call(functions::websocket_event_handler,
                                   connect_event(id_, state_->new_id(), request.target()));
  if (answer.status != 200) {
    state_->hub.remove(id_);
    return refuse(answer, request.version());
  }
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(30);
  // Beast pings after half the idle time without traffic and closes a socket that stays silent.
  timeouts.idle_timeout = std::chrono::seconds(60);
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
      [policy = &edge_->policy, origin = origin_, host = host_](websocket::response_type& res) {
        finish_headers(res.base(), *policy, origin, host, false);
      }));
  ws_.read_message_max(4096);
  ws_.async_accept(request,
                   beast::bind_front_handler(&WebSocketSession::on_accept, shared_from_this()));
}

void WebSocketSession::refuse(const RouterAnswer& answer, unsigned version) {
  // No upgrade, so no $disconnect either: this connection never existed for the routers.
  closed_ = true;
  auto res = std::make_shared<StringResponse>(from_router(answer, version, false));
  res->set(http::field::content_type, "application/json");
  finish_headers(res->base(), edge_->policy, origin_, host_, false);
  auto stream = std::make_shared<Stream>(std::move(ws_.next_layer()));
  stream->tcp().expires_after(std::chrono::seconds(10));
  http::async_write(*stream, *res, [stream, res](beast::error_code, std::size_t) {
    beast::error_code ignored;
    stream->tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  });
}

void WebSocketSession::send_text(std::string message) {
  asio::post(ws_.get_executor(), [self = shared_from_this(), m = std::move(message)]() mutable {
    self->queue_.push_back(std::move(m));
    if (self->open_ && self->queue_.size() == 1) self->do_write();
  });
}

void WebSocketSession::on_accept(beast::error_code ec) {
  if (ec) return closed();
  open_ = true;
  if (!queue_.empty()) do_write();
  do_read();
}

void WebSocketSession::do_read() {
  ws_.async_read(buffer_,
                 beast::bind_front_handler(&WebSocketSession::on_read, shared_from_this()));
}

void WebSocketSession::on_read(beast::error_code ec, std::size_t) {
  if (ec) return closed();
  // The desktop has nothing to say; messages are read only to see the socket is alive.
  buffer_.consume(buffer_.size());
  do_read();
}

void WebSocketSession::do_write() {
  ws_.text(true);
  ws_.async_write(asio::buffer(queue_.front()),
                  beast::bind_front_handler(&WebSocketSession::on_write, shared_from_this()));
}

void WebSocketSession::on_write(beast::error_code ec, std::size_t) {
  if (ec) return closed();
  queue_.pop_front();
  if (!queue_.empty()) do_write();
}

void WebSocketSession::closed() {
  if (closed_) return;
  closed_ = true;
  open_ = false;
  state_->hub.remove(id_);
  state_->call(functions::websocket_event_handler, disconnect_event(id_, state_->new_id()));
}

}  // namespace qr::local
