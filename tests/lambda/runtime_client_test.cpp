// The Runtime API client against a scripted loopback HTTP server (port 0, one thread).

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "lambda/runtime_client.hpp"
#include "lambda/runtime_loop.hpp"

namespace qr::lambda {
namespace {

/// Answers each request with the next scripted raw response; records what it received.
class ScriptedServer {
 public:
  struct Reply {
    std::string raw;           // bytes written back verbatim
    bool close_after = false;  // close the connection after writing
  };
  struct Request {
    std::string head;
    std::string body;
  };

  explicit ScriptedServer(std::vector<Reply> replies) : replies_(replies.begin(), replies.end()) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_fd_, 4);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    thread_.join();
  }

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  int accepted() const { return accepted_; }
  std::vector<Request> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    while (!replies_.empty()) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      ++accepted_;
      std::string in;
      bool open = true;
      while (open && !replies_.empty()) {
        Request request;
        std::size_t end;
        while ((end = in.find("\r\n\r\n")) == std::string::npos) {
          if (!read_some(fd, in)) {
            open = false;
            break;
          }
        }
        if (!open) break;
        request.head = in.substr(0, end);
        in.erase(0, end + 4);
        std::size_t length = 0;
        const auto cl = request.head.find("Content-Length: ");
        if (cl != std::string::npos) length = std::stoul(request.head.substr(cl + 16));
        while (in.size() < length && read_some(fd, in)) {
        }
        request.body = in.substr(0, length);
        in.erase(0, length);
        {
          std::lock_guard lock(mutex_);
          requests_.push_back(request);
        }
        const Reply reply = replies_.front();
        replies_.pop_front();
        ::send(fd, reply.raw.data(), reply.raw.size(), MSG_NOSIGNAL);
        if (reply.close_after) open = false;
      }
      ::close(fd);
    }
  }
  static bool read_some(int fd, std::string& in) {
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    in.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::deque<Reply> replies_;
  std::mutex mutex_;
  std::vector<Request> requests_;
  std::thread thread_;
};

const std::string accepted_reply =
    "HTTP/1.1 202 Accepted\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n";

std::string next_reply(std::string_view body) {
  return "HTTP/1.1 200 OK\r\n"
         "Content-Type: application/json\r\n"
         "Lambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n"
         "Lambda-Runtime-Deadline-Ms: 1542409706888\r\n"
         "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-2:123456789012:function:f\r\n"
         "Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

TEST(RuntimeClient, NextReadsTheInvocationHeadersAndBody) {
  ScriptedServer server({{next_reply(R"({"a":1})")}});
  RuntimeClient client(server.endpoint());
  auto event = client.next();
  ASSERT_TRUE(event.has_value()) << event.error().detail;
  EXPECT_EQ(event->invocation.request_id, "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
  EXPECT_EQ(event->invocation.deadline_ms, 1542409706888);
  EXPECT_EQ(event->invocation.function_arn, "arn:aws:lambda:us-east-2:123456789012:function:f");
  EXPECT_EQ(event->invocation.trace_id, "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1");
  EXPECT_EQ(event->payload, R"({"a":1})");
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].head.substr(0, requests[0].head.find("\r\n")),
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1");
}

TEST(RuntimeClient, NextDecodesAChunkedBody) {
  ScriptedServer server(
      {{"HTTP/1.1 200 OK\r\n"
        "Lambda-Runtime-Aws-Request-Id: r1\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
        "4\r\n{\"ke\r\n"
        "a;ext=1\r\ny\":\"value\"\r\n"
        "1\r\n}\r\n"
        "0\r\nX-Trailer: t\r\n\r\n"}});
  RuntimeClient client(server.endpoint());
  auto event = client.next();
  ASSERT_TRUE(event.has_value()) << event.error().detail;
  EXPECT_EQ(event->payload, R"({"key":"value"})");
}

TEST(RuntimeClient, RespondPostsTheBodyOnTheSameConnection) {
  ScriptedServer server({{next_reply("{}")}, {accepted_reply}});
  RuntimeClient client(server.endpoint());
  auto event = client.next();
  ASSERT_TRUE(event.has_value());
  auto sent = client.respond(event->invocation, R"({"statusCode":200})");
  ASSERT_TRUE(sent.has_value()) << sent.error().detail;
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].head.substr(0, requests[1].head.find("\r\n")),
            "POST /2018-06-01/runtime/invocation/8476a536-e9f4-11e8-9739-2dfe598c3fcd/response "
            "HTTP/1.1");
  EXPECT_EQ(requests[1].body, R"({"statusCode":200})");
  EXPECT_EQ(server.accepted(), 1);  // keep-alive
}

TEST(RuntimeClient, FailSendsTheErrorDocumentAndHeader) {
  ScriptedServer server({{accepted_reply}});
  RuntimeClient client(server.endpoint());
  Invocation inv;
  inv.request_id = "r9";
  auto sent = client.fail(inv, {"Runtime.UnhandledException", "std::runtime_error", "boom", {}});
  ASSERT_TRUE(sent.has_value()) << sent.error().detail;
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_NE(requests[0].head.find("POST /2018-06-01/runtime/invocation/r9/error HTTP/1.1"),
            std::string::npos);
  EXPECT_NE(requests[0].head.find("Lambda-Runtime-Function-Error-Type: Runtime.UnhandledException"),
            std::string::npos);
  EXPECT_EQ(boost::json::parse(requests[0].body),
            (boost::json::value{{"errorMessage", "boom"},
                                {"errorType", "std::runtime_error"},
                                {"stackTrace", boost::json::array{}}}));
}

TEST(RuntimeClient, InitErrorPostsToTheInitPath) {
  ScriptedServer server({{accepted_reply}});
  RuntimeClient client(server.endpoint());
  ASSERT_TRUE(client.init_error({"Runtime.ConfigInvalid", "ConfigInvalid", "missing", {}}));
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].head.substr(0, requests[0].head.find("\r\n")),
            "POST /2018-06-01/runtime/init/error HTTP/1.1");
}

TEST(RuntimeClient, ReconnectsWhenTheServerClosedTheKeptAliveConnection) {
  // The first reply closes the connection without saying so; the client must reconnect.
  ScriptedServer server({{next_reply("{}"), true}, {accepted_reply}});
  RuntimeClient client(server.endpoint());
  auto event = client.next();
  ASSERT_TRUE(event.has_value());
  auto sent = client.respond(event->invocation, "{}");
  ASSERT_TRUE(sent.has_value()) << sent.error().detail;
  EXPECT_EQ(server.accepted(), 2);
}

TEST(RuntimeClient, ReportsAnErrorStatusFromNext) {
  ScriptedServer server({{"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops"}});
  RuntimeClient client(server.endpoint());
  auto event = client.next();
  ASSERT_FALSE(event.has_value());
  EXPECT_NE(event.error().detail.find("500"), std::string::npos);
}

TEST(RuntimeClient, ReadsABodyDelimitedByConnectionClose) {
  ScriptedServer server(
      {{"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r\r\n"
        "Connection: close\r\n\r\n{\"x\":true}",
        true}});
  RuntimeClient client(server.endpoint());
  auto event = client.next();
  ASSERT_TRUE(event.has_value()) << event.error().detail;
  EXPECT_EQ(event->payload, R"({"x":true})");
}

TEST(RuntimeClient, HandlerErrorValueIsPostedToTheErrorPath) {
  // The loop over the real client: a handler's error value becomes POST .../{id}/error with the
  // error document, on the kept-alive connection of GET /next.
  ScriptedServer server({{next_reply(R"({"Records":[]})")}, {accepted_reply}});
  RuntimeClient client(server.endpoint());
  std::vector<std::string> lines;
  Logger log{[&lines](std::string_view line) { lines.emplace_back(line); }};
  const Handler handler = [](const boost::json::value&, const Invocation&) -> HandlerResult {
    return std::unexpected(HandlerError{"RedeliverEvent", "S3 records failed on a storage error"});
  };
  ASSERT_TRUE(run_loop(client, handler, log, 1).has_value());
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].head.substr(0, requests[1].head.find("\r\n")),
            "POST /2018-06-01/runtime/invocation/8476a536-e9f4-11e8-9739-2dfe598c3fcd/error "
            "HTTP/1.1");
  EXPECT_NE(requests[1].head.find("Lambda-Runtime-Function-Error-Type: Function.RedeliverEvent"),
            std::string::npos)
      << requests[1].head;
  EXPECT_EQ(boost::json::parse(requests[1].body),
            (boost::json::value{{"errorMessage", "S3 records failed on a storage error"},
                                {"errorType", "RedeliverEvent"},
                                {"stackTrace", boost::json::array{}}}));
  EXPECT_EQ(server.accepted(), 1);
}

// A custom runtime must put each invocation's Lambda-Runtime-Trace-Id into _X_AMZN_TRACE_ID (the
// X-Ray SDKs and the Lambda docs' "Custom runtime" page): the header of GET /next, read by the
// real client, is in the environment while the handler runs; an invocation without one leaves
// no trace of the one before.
TEST(RuntimeClient, EachInvocationsTraceIdIsInXAmznTraceIdWhileItsHandlerRuns) {
  const std::string untraced =
      "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r2\r\nContent-Length: 2\r\n\r\n{}";
  ScriptedServer server({{next_reply("{}")}, {accepted_reply}, {untraced}, {accepted_reply}});
  RuntimeClient client(server.endpoint());
  Logger log{[](std::string_view) {}};
  std::vector<std::string> seen;
  const Handler handler = [&seen](const boost::json::value&, const Invocation&) -> HandlerResult {
    const char* trace = std::getenv("_X_AMZN_TRACE_ID");
    seen.emplace_back(trace ? trace : "(unset)");
    return boost::json::value{{"ok", true}};
  };
  ::setenv("_X_AMZN_TRACE_ID", "Root=1-stale", 1);
  ASSERT_TRUE(run_loop(client, handler, log, 2).has_value());
  EXPECT_EQ(seen, (std::vector<std::string>{"Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1",
                                            "(unset)"}));
}

TEST(RuntimeClient, MalformedEndpointIsAnInvalidInputError) {
  RuntimeClient client("127.0.0.1:9001/path");
  auto event = client.next();
  ASSERT_FALSE(event.has_value());
  EXPECT_EQ(event.error().code, ErrorCode::invalid_input);
  EXPECT_NE(event.error().detail.find("AWS_LAMBDA_RUNTIME_API"), std::string::npos);
}

TEST(RuntimeClient, UnreachableEndpointIsAnError) {
  // Port 1 on loopback: nothing listens there.
  RuntimeClient client("127.0.0.1:1");
  auto event = client.next();
  ASSERT_FALSE(event.has_value());
  EXPECT_EQ(event.error().code, ErrorCode::unavailable);
}

}  // namespace
}  // namespace qr::lambda
