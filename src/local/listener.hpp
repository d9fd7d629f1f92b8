#pragma once
// Accepts connections on the bound port, one strand each, and hands them to an HttpSession.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>

#include "local/shared_state.hpp"

namespace qr::local {

class Listener final {
 public:
  Listener(boost::asio::io_context& io, boost::asio::ip::tcp::acceptor acceptor,
           std::shared_ptr<SharedState> state);

  /// Starts accepting; runs until the io_context stops.
  void start();

 private:
  void do_accept();

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<SharedState> state_;
  boost::asio::steady_timer retry_timer_;
};

}  // namespace qr::local
