#pragma once
// One desktop WebSocket (/ws): registered in the hub before $connect runs, so no message can miss
// it; $disconnect when it closes. The desktop only listens; frames it sends are read and dropped.

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <deque>
#include <memory>
#include <string>

#include "local/http_messages.hpp"
#include "local/hub_notifier.hpp"
#include "local/shared_state.hpp"
#include "local/stream.hpp"

namespace qr::local {

class WebSocketSession final : public HubConnection,
                               public std::enable_shared_from_this<WebSocketSession> {
 public:
  /// `slot` is the connection's place under the server's connection cap.
  WebSocketSession(Stream stream, std::shared_ptr<SharedState> state, std::shared_ptr<Edge> edge,
                   ConnectionCount::Slot slot, std::string connection_id);
  ~WebSocketSession() override;

  /// Runs $connect for the upgrade `request` asked for; accepts it if the router says 200,
  /// otherwise answers as API Gateway does, with the router's status and body instead of the
  /// upgrade. Messages queued meanwhile go out once the upgrade is done.
  void start(boost::beast::http::request<boost::beast::http::string_body> request);

  /// Queues a text frame; safe from any thread.
  void send_text(std::string message) override;

 private:
  void refuse(const RouterAnswer& answer, unsigned version);
  void on_accept(boost::beast::error_code ec);
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void do_write();
  void on_write(boost::beast::error_code ec, std::size_t bytes);
  void closed();

  boost::beast::websocket::stream<Stream> ws_;
  std::shared_ptr<SharedState> state_;
  std::shared_ptr<Edge> edge_;
  ConnectionCount::Slot slot_;
  std::string id_;
  std::string counted_session_;  // the session this socket counts against (SessionSockets)
  std::string origin_, host_;
  boost::beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  bool open_ = false;
  bool closed_ = false;
};

}  // namespace qr::local
