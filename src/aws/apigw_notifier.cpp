#include "aws/apigw_notifier.hpp"

namespace qr::aws {

ApiGatewayNotifier::ApiGatewayNotifier(Credentials credentials, std::string region,
                                       Endpoint endpoint, std::unique_ptr<HttpClient> http,
                                       RetryPolicy retry, Clock& clock)
    : signer_(std::move(credentials), std::move(region), "execute-api"),
      endpoint_(std::move(endpoint)),
      http_(std::move(http)),
      retry_(std::move(retry)),
      clock_(clock) {}

Result<void> ApiGatewayNotifier::send(std::string_view connection_id, std::string_view message) {
  if (connection_id.empty()) return fail(ErrorCode::invalid_input, "empty connection id");
  // Connection ids end in '=' ("L0SM9cOFvHcCIhw="): encoded once on the wire; the signer
  // encodes the path a second time for the canonical request, as execute-api expects.
  const std::string path = endpoint_.base_path + "/@connections/" + uri_encode(connection_id);
  const std::string payload_hash = crypto::sha256_hex(message);
  auto attempt = [&]() -> Result<HttpResponse> {
    SignableRequest sreq{"POST", path, {}, {{"host", endpoint_.authority()}}};
    const HeaderSignature sig = signer_.sign(sreq, payload_hash, clock_.now());
    HttpRequest req{"POST", path, {}, std::string(message)};
    for (const auto& h : sig.headers) req.headers.push_back(h);
    return http_->send(req);
  };
  RetryOutcome outcome = run_with_retries(retry_, attempt);
  if (!outcome.result) return std::unexpected(outcome.result.error());
  const HttpResponse& res = *outcome.result;
  if (res.status / 100 == 2) return {};
  if (res.status == 410)
    return fail(ErrorCode::gone, "connection gone: " + std::string(connection_id));
  const ErrorCode permanent = res.status == 403 ? ErrorCode::forbidden : ErrorCode::internal;
  return std::unexpected(error_from_response(res, "PostToConnection", permanent));
}

}  // namespace qr::aws
