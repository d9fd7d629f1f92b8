#include "local/listener.hpp"

#include <boost/asio/strand.hpp>

#include "local/http_session.hpp"

namespace qr::local {
namespace asio = boost::asio;

Listener::Listener(asio::io_context& io, asio::ip::tcp::acceptor acceptor,
                   std::shared_ptr<SharedState> state)
    : io_(io), acceptor_(std::move(acceptor)), state_(std::move(state)), retry_timer_(io) {}

void Listener::start() {
  do_accept();
}

void Listener::do_accept() {
  acceptor_.async_accept(
      asio::make_strand(io_), [this](boost::system::error_code ec, asio::ip::tcp::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
          std::make_shared<HttpSession>(std::move(socket), state_)->start();
          return do_accept();
        }
        // Out of file descriptors (EMFILE) and the like: the pending connection stays queued, so
        // accepting again at once would spin. Say so, wait a moment, then try again.
        state_->log.warn("accept failed; retrying shortly", {{"error", ec.message()}});
        retry_timer_.expires_after(std::chrono::milliseconds(100));
        retry_timer_.async_wait([this](boost::system::error_code wait_ec) {
          if (!wait_ec) do_accept();
        });
      });
}

}  // namespace qr::local
