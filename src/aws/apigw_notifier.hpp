#pragma once
// Notifier over the API Gateway Management API: POST {endpoint}/@connections/{id}, signed for
// "execute-api" (whose paths are URI-encoded twice when signing, unlike S3's).

#include <memory>
#include <string>

#include "aws/signed_client.hpp"
#include "ports/clock.hpp"
#include "ports/notifier.hpp"

namespace qr::aws {

/// The Notifier of the AWS deployment.
class ApiGatewayNotifier final : public Notifier {
 public:
  /// `endpoint` is https://{WS_API_ENDPOINT} (its base path is the stage, e.g. "/prod");
  /// `http` talks to it; `clock` dates the signatures and must outlive this.
  ApiGatewayNotifier(Credentials credentials, std::string region, Endpoint endpoint,
                     std::unique_ptr<HttpClient> http, RetryPolicy retry, Clock& clock);

  /// 200 -> ok; 410 -> ErrorCode::gone (the caller clears the connection); throttling and 5xx
  /// are retried, then throttled/unavailable; 403 -> forbidden; other statuses -> internal.
  Result<void> send(std::string_view connection_id, std::string_view message) override;

 private:
  SignedClient aws_;
};

}  // namespace qr::aws
