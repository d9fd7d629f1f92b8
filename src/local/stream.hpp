#pragma once
// A connection's byte stream: plain TCP, or TLS over it when the server has a certificate
// (--tls-cert). One type for both, so that the HTTP session, the upload receiver and the
// WebSocket session are written once; which one a connection is was decided when it was
// accepted. Timeouts and the socket are the TCP layer's, under either.

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <utility>
#include <variant>

namespace qr::local {

class Stream {
 public:
  using Tcp = boost::beast::tcp_stream;
  using Tls = boost::beast::ssl_stream<Tcp>;
  using executor_type = Tcp::executor_type;

  /// Plain TCP.
  explicit Stream(Tcp tcp) : stream_(std::in_place_index<0>, std::move(tcp)) {}
  /// TLS over `tcp`, as a server, with `context`'s certificate (the handshake comes first).
  Stream(Tcp tcp, boost::asio::ssl::context& context)
      : stream_(std::in_place_index<1>, std::move(tcp), context) {}

  executor_type get_executor() { return tcp().get_executor(); }
  /// The TCP layer: its timeouts, its socket.
  Tcp& tcp() {
    if (auto* plain = std::get_if<0>(&stream_)) return *plain;
    return std::get<1>(stream_).next_layer();
  }
  bool is_tls() const { return stream_.index() == 1; }

  /// The server side of the TLS handshake; for plain TCP it completes at once.
  template <class Token>
  auto async_handshake(Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](auto handler) {
          if (auto* tls = std::get_if<1>(&stream_))
            return tls->async_handshake(boost::asio::ssl::stream_base::server, std::move(handler));
          boost::asio::post(get_executor(), [h = std::move(handler)]() mutable {
            std::move(h)(boost::system::error_code{});
          });
        },
        token);
  }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          std::visit([&](auto& s) { s.async_read_some(b, std::move(handler)); }, stream_);
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          std::visit([&](auto& s) { s.async_write_some(b, std::move(handler)); }, stream_);
        },
        token, buffers);
  }

  // What a WebSocket over this stream needs: closing it (Beast's timeouts) and its teardown.
  friend void beast_close_socket(Stream& s) {
    boost::beast::error_code ignored;
    s.tcp().socket().close(ignored);
  }
  // (Beast's overloads for each layer are found by argument-dependent lookup.)
  friend void teardown(boost::beast::role_type role, Stream& s, boost::beast::error_code& ec) {
    using boost::beast::websocket::teardown;
    std::visit([&](auto& stream) { teardown(role, stream, ec); }, s.stream_);
  }
  template <class Handler>
  friend void async_teardown(boost::beast::role_type role, Stream& s, Handler&& handler) {
    using boost::beast::websocket::async_teardown;
    if (auto* plain = std::get_if<0>(&s.stream_))
      return async_teardown(role, *plain, std::forward<Handler>(handler));
    async_teardown(role, std::get<1>(s.stream_), std::forward<Handler>(handler));
  }

 private:
  std::variant<Tcp, Tls> stream_;
};

}  // namespace qr::local
