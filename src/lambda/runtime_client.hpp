#pragma once
// The Lambda Runtime API (2018-06-01) as an EventSource, over a plain keep-alive HTTP connection.

#include <string_view>

#include "lambda/http_connection.hpp"
#include "lambda/invocation.hpp"

namespace qr::lambda {

/// Talks to the Runtime API at AWS_LAMBDA_RUNTIME_API ("host:port", loopback plain HTTP).
class RuntimeClient final : public EventSource {
 public:
  /// A client for `endpoint` ("host:port" or "[v6]:port"); connects on first use.
  explicit RuntimeClient(std::string_view endpoint);

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

  HttpConnection connection_;
};

}  // namespace qr::lambda
