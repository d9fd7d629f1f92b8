#include "local/listener.hpp"

#include <boost/asio/strand.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/write.hpp>

#include "local/http_session.hpp"

namespace qr::local {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr int max_turning_away = 64;

// Says 503 to a connection over the cap, then reads what it sent for a moment (closing on unread
// data would reset the connection and lose the answer) and closes.
struct TurnAway : std::enable_shared_from_this<TurnAway> {
  TurnAway(asio::ip::tcp::socket socket, std::shared_ptr<std::atomic<int>> count)
      : stream(std::move(socket)), count(std::move(count)) {}
  ~TurnAway() { count->fetch_sub(1); }

  void start(StringResponse answer) {
    res = std::move(answer);
    stream.expires_after(std::chrono::seconds(2));
    http::async_write(stream, res, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      beast::error_code ignored;
      self->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
      self->drain();
    });
  }
  void drain() {
    stream.async_read_some(asio::buffer(scratch),
                           [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             if (!ec) self->drain();
                           });
  }

  beast::tcp_stream stream;
  std::shared_ptr<std::atomic<int>> count;
  StringResponse res;
  char scratch[4096];
};

}  // namespace

Listener::Listener(asio::io_context& io, asio::ip::tcp::acceptor acceptor,
                   std::shared_ptr<SharedState> state, std::shared_ptr<Edge> edge,
                   std::shared_ptr<asio::ssl::context> tls)
    : io_(io),
      acceptor_(std::move(acceptor)),
      state_(std::move(state)),
      edge_(std::move(edge)),
      tls_(std::move(tls)),
      retry_timer_(io) {}

void Listener::start() {
  do_accept();
}

void Listener::do_accept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](boost::system::error_code ec,
                                                        asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      if (auto slot = edge_->connections.acquire())
        std::make_shared<HttpSession>(std::move(socket), state_, edge_, std::move(slot), tls_.get())
            ->start();
      else
        turn_away(std::move(socket));
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

void Listener::turn_away(asio::ip::tcp::socket socket) {
  // Logged once per crossing of the cap, not per connection: a flood must not flood the log.
  static std::atomic<std::int64_t> last_logged{0};
  const auto now = state_->clock.now_seconds();
  if (last_logged.exchange(now) != now)
    state_->log.warn("connection cap reached; answering 503",
                     {{"open", edge_->connections.open()}, {"max", edge_->connections.max()}});
  if (turning_away_->fetch_add(1) >= max_turning_away) {
    turning_away_->fetch_sub(1);
    return;  // the socket closes here
  }
  auto answer = error_json(503, "Too many connections; try again shortly", 11, false);
  answer.set(http::field::retry_after, "5");
  finish_headers(answer.base(), edge_->policy, "", "", false);
  std::make_shared<TurnAway>(std::move(socket), turning_away_)->start(std::move(answer));
}

}  // namespace qr::local
