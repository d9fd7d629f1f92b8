#pragma once
// The DynamoDB JSON protocol (x-amz-json-1.0): one signed POST per operation, with retries, over
// the adapters' one signed request path (SignedClient).

#include <memory>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "aws/signed_client.hpp"
#include "core/error.hpp"
#include "ports/clock.hpp"

namespace qr::aws {

/// A failed DynamoDB call: the mapped error plus the service's code ("ConditionalCheckFailed...").
struct DynamoDbError {
  Error error;           ///< mapped code and detail
  std::string aws_code;  ///< "__type" without its namespace; empty for transport failures
};

/// Calls DynamoDB operations on one endpoint.
class DynamoDbClient {
 public:
  /// `http` talks to `endpoint`; `clock` dates the signatures (it must outlive the client).
  DynamoDbClient(Credentials credentials, std::string region, Endpoint endpoint,
                 std::unique_ptr<HttpClient> http, RetryPolicy retry, Clock& clock);

  /// Calls `operation` ("PutItem", "Query", ...) with `request`; the parsed response on 2xx.
  /// Errors: ConditionalCheckFailedException -> condition_failed, throttling (after retries) ->
  /// throttled, 5xx/transport (after retries) -> unavailable, anything else -> internal.
  std::expected<boost::json::object, DynamoDbError> call(std::string_view operation,
                                                         const boost::json::object& request);

  /// Attempts made by the last call (1 when it did not retry); for tests and metrics.
  int last_attempts() const { return aws_.last_attempts(); }

 private:
  SignedClient aws_;
};

}  // namespace qr::aws
