#pragma once
// One HTTP connection: reads a request header, picks what serves it (the HTTP API router, a
// signed upload or download, the WebSocket upgrade, a page), reads the body that wants, answers,
// and reads the next request while the connection is kept alive.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <optional>
#include <string>

#include "local/http_messages.hpp"
#include "local/shared_state.hpp"
#include "local/stream.hpp"

namespace qr::local {

class UploadReceiver;

class HttpSession final : public std::enable_shared_from_this<HttpSession> {
 public:
  /// `slot` is this connection's place under the connection cap, held while it lives. With
  /// `tls` (the server's certificate) the connection speaks HTTPS (and WSS after an upgrade).
  HttpSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<SharedState> state,
              std::shared_ptr<Edge> edge, ConnectionCount::Slot slot,
              boost::asio::ssl::context* tls);

  /// Shakes hands (TLS), then reads the first request.
  void start();

 private:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Next = void (HttpSession::*)(Request);

  void on_handshake(boost::beast::error_code ec);
  void do_read_header();
  void on_header(boost::beast::error_code ec, std::size_t bytes);
  void read_small_body(Next next);
  void dispatch(Request req);
  void api(Request req);
  void static_file(const Request& req, std::string_view path);
  void download(const Request& req);
  void start_upload();
  void upgrade(Request req);
  template <class Response>
  void reply(Response&& response);
  void refuse(unsigned status, std::string_view message);
  void close();
  void drain();

  Stream stream_;
  boost::beast::flat_buffer buffer_;
  std::shared_ptr<SharedState> state_;
  std::shared_ptr<Edge> edge_;
  ConnectionCount::Slot slot_;
  std::string source_ip_;
  // Of the request being served: what its answer's headers depend on.
  std::string origin_;
  std::string host_;
  bool head_ = false;
  bool page_ = false;
  std::optional<boost::beast::http::request_parser<boost::beast::http::empty_body>> header_parser_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> body_parser_;
  std::shared_ptr<UploadReceiver> upload_;
  std::string drain_buffer_;
  std::size_t drained_ = 0;
};

}  // namespace qr::local
