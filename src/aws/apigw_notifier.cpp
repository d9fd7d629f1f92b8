#include "aws/apigw_notifier.hpp"

namespace qr::aws {

ApiGatewayNotifier::ApiGatewayNotifier(Credentials credentials, std::string region,
                                       Endpoint endpoint, std::unique_ptr<HttpClient> http,
                                       RetryPolicy retry, Clock& clock)
    : aws_("execute-api", std::move(credentials), std::move(region), std::move(endpoint),
           std::move(http), std::move(retry), clock) {}

Result<void> ApiGatewayNotifier::send(std::string_view connection_id, std::string_view message) {
  if (connection_id.empty()) return fail(ErrorCode::invalid_input, "empty connection id");
  // Connection ids end in '=' ("L0SM9cOFvHcCIhw="): encoded once on the wire; the signer
  // encodes the path a second time for the canonical request, as execute-api expects.
  auto res = aws_.send(
      {"POST", "/@connections/" + uri_encode(connection_id), {}, {}, std::string(message), {}});
  if (!res) return std::unexpected(res.error());
  if (res->status / 100 == 2) return {};
  if (res->status == 410)
    return fail(ErrorCode::gone, "connection gone: " + std::string(connection_id));
  const ErrorCode permanent = res->status == 403 ? ErrorCode::forbidden : ErrorCode::internal;
  return std::unexpected(error_from_response(*res, "PostToConnection", permanent));
}

}  // namespace qr::aws
