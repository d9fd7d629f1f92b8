// The Beast HTTP client against a raw loopback server run on a thread of the test: connection
// reuse, re-opening a connection the server closed, and the read timeout.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "aws/http_client.hpp"

namespace {

using namespace std::chrono_literals;

// Accepts connections one after another; on each, answers up to `per_connection` requests with
// "ok" (HTTP/1.1, keep-alive implied), then closes it. With `silent`, reads and never answers.
class RawServer {
 public:
  RawServer(int per_connection, bool silent = false)
      : per_connection_(per_connection), silent_(silent) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 8);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~RawServer() {
    stopping_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  int connections() const { return connections_; }

 private:
  void serve() {
    while (!stopping_) {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++connections_;
      std::string buffer;
      for (int served = 0; served < per_connection_;) {
        char chunk[4096];
        const ssize_t n = read(c, chunk, sizeof chunk);
        if (n <= 0) break;
        buffer.append(chunk, static_cast<std::size_t>(n));
        const auto end = buffer.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        buffer.erase(0, end + 4);  // the tests send no bodies
        if (silent_) continue;
        const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        (void)!write(c, reply.data(), reply.size());
        ++served;
      }
      if (silent_) {
        // Hold the connection open without answering until the test ends.
        char chunk[64];
        while (!stopping_ && read(c, chunk, sizeof chunk) > 0) {
        }
      }
      close(c);
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  int per_connection_;
  bool silent_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

TEST(HttpClient, ReusesOneKeptAliveConnection) {
  RawServer server(100);
  auto http = qr::aws::make_http_client({false, "127.0.0.1", server.port(), ""});
  for (int i = 0; i < 5; ++i) {
    auto r = http->send({"GET", "/x", {}, {}});
    ASSERT_TRUE(r) << r.error().detail;
    EXPECT_EQ(r->body, "ok");
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClient, WarmUpOpensTheConnectionTheFirstRequestUses) {
  RawServer server(100);
  auto http = qr::aws::make_http_client({false, "127.0.0.1", server.port(), ""});
  ASSERT_TRUE(http->warm_up());
  ASSERT_TRUE(http->send({"GET", "/x", {}, {}}));
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClient, ReopensAConnectionTheServerClosed) {
  RawServer server(1);  // closes after every response, without saying so
  auto http = qr::aws::make_http_client({false, "127.0.0.1", server.port(), ""});
  for (int i = 0; i < 3; ++i) {
    auto r = http->send({"GET", "/x", {}, {}});
    ASSERT_TRUE(r) << i << ": " << r.error().detail;
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(server.connections(), 3);
}

TEST(HttpClient, NewConnectionPerRequestWhenKeepAliveIsOff) {
  RawServer server(100);
  qr::aws::HttpClientOptions options;
  options.keep_alive = false;
  auto http = qr::aws::make_http_client({false, "127.0.0.1", server.port(), ""}, options);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(http->send({"GET", "/x", {}, {}}));
  EXPECT_EQ(server.connections(), 3);
}

TEST(HttpClient, BlockingModeKeepsAliveAndReopensAConnectionTheServerClosed) {
  qr::aws::HttpClientOptions options;
  options.blocking = true;
  RawServer kept(100);
  auto http = qr::aws::make_http_client({false, "127.0.0.1", kept.port(), ""}, options);
  for (int i = 0; i < 3; ++i) {
    auto r = http->send({"GET", "/x", {}, {}});
    ASSERT_TRUE(r) << r.error().detail;
    EXPECT_EQ(r->body, "ok");
  }
  EXPECT_EQ(kept.connections(), 1);

  RawServer closing(1);  // closes after every response, without saying so
  auto again = qr::aws::make_http_client({false, "127.0.0.1", closing.port(), ""}, options);
  for (int i = 0; i < 3; ++i) {
    auto r = again->send({"POST", "/x", {}, {}});
    ASSERT_TRUE(r) << i << ": " << r.error().detail;
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(closing.connections(), 3);
}

TEST(HttpClient, BlockingRefusedConnectionIsUnavailable) {
  qr::aws::HttpClientOptions options;
  options.blocking = true;
  auto http = qr::aws::make_http_client({false, "127.0.0.1", 1, ""}, options);
  auto r = http->send({"GET", "/", {}, {}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, qr::ErrorCode::unavailable);
}

TEST(HttpClient, ReadTimeoutIsUnavailable) {
  RawServer server(1, /*silent=*/true);
  qr::aws::HttpClientOptions options;
  options.read_timeout = 200ms;
  auto http = qr::aws::make_http_client({false, "127.0.0.1", server.port(), ""}, options);
  const auto start = std::chrono::steady_clock::now();
  auto r = http->send({"GET", "/x", {}, {}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, qr::ErrorCode::unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(HttpClient, RefusedConnectionIsUnavailable) {
  auto http = qr::aws::make_http_client({false, "127.0.0.1", 1, ""});
  auto r = http->send({"GET", "/", {}, {}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, qr::ErrorCode::unavailable);
}

TEST(HttpClient, TlsVerificationRejectsAPlainServer) {
  // A TLS client against a server that hangs up fails the handshake: no silent downgrade.
  RawServer server(0);
  qr::aws::HttpClientOptions options;
  options.connect_timeout = 2s;
  auto http = qr::aws::make_http_client({true, "127.0.0.1", server.port(), ""}, options);
  auto r = http->send({"GET", "/", {}, {}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, qr::ErrorCode::unavailable);
}

}  // namespace
