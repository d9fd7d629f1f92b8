#pragma once
// Accepts connections on the bound port, one strand each, and hands them to an HttpSession; past
// the connection cap it answers 503 itself and closes.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>

#include "local/http_messages.hpp"
#include "local/shared_state.hpp"

namespace qr::local {

class Listener final {
 public:
  /// With `tls`, every connection speaks TLS with that context (HTTPS, WSS).
  Listener(boost::asio::io_context& io, boost::asio::ip::tcp::acceptor acceptor,
           std::shared_ptr<SharedState> state, std::shared_ptr<Edge> edge,
           std::shared_ptr<boost::asio::ssl::context> tls);

  /// Starts accepting; runs until the io_context stops.
  void start();

 private:
  void do_accept();
  void turn_away(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<SharedState> state_;
  std::shared_ptr<Edge> edge_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  boost::asio::steady_timer retry_timer_;
  // Connections being told 503: they hold descriptors too, so they are few and brief.
  std::shared_ptr<std::atomic<int>> turning_away_ = std::make_shared<std::atomic<int>>(0);
};

}  // namespace qr::local
