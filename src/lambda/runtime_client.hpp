#pragma once
// The Lambda Runtime API (2018-06-01) as an EventSource, over the AWS adapters' HTTP client (one
// HTTP/1.1 client and parser for the process): plain HTTP to loopback, one kept-alive connection,
// TCP_NODELAY, each request in one write, and no timeout on the GET /next long poll.

#include <memory>
#include <optional>
#include <string_view>

#include "core/error.hpp"
#include "lambda/invocation.hpp"

namespace qr::aws {
class HttpClient;
struct HttpRequest;
}  // namespace qr::aws

namespace qr::lambda {

/// Talks to the Runtime API at AWS_LAMBDA_RUNTIME_API ("host:port", loopback plain HTTP).
class RuntimeClient final : public EventSource {
 public:
  /// A client for `endpoint` ("host:port" or "[v6]:port"; port 80 when none); connects on first
  /// use. A malformed endpoint makes every call fail with ErrorCode::invalid_input.
  explicit RuntimeClient(std::string_view endpoint);
  ~RuntimeClient() override;
  RuntimeClient(const RuntimeClient&) = delete;
  RuntimeClient& operator=(const RuntimeClient&) = delete;

  /// GET /runtime/invocation/next: blocks, with no timeout, until Lambda has an event.
  Result<NextEvent> next() override;
  /// POST /runtime/invocation/{id}/response.
  Result<void> respond(const Invocation& invocation, std::string_view body) override;
  /// POST /runtime/invocation/{id}/error.
  Result<void> fail(const Invocation& invocation, const ErrorReport& error) override;
  /// POST /runtime/init/error: configuration or start-up failed; the caller then exits.
  Result<void> init_error(const ErrorReport& error);

 private:
  Result<void> post(std::string_view target, std::string_view body,
                    std::string_view function_error_type);

  std::unique_ptr<aws::HttpClient> http_;  // null when the endpoint did not parse
  std::optional<Error> endpoint_error_;
  // Reused by every POST, so its strings keep their capacity from one event to the next.
  std::unique_ptr<aws::HttpRequest> post_;
};

}  // namespace qr::lambda
