#pragma once
// The one signed request path of the AWS adapters: SigV4 signer, endpoint, HTTP client, retry
// policy (which carries the invocation's deadline) and clock, in one place. The DynamoDB, S3 and
// Management API clients build an AwsRequest and hand it over; their differences are data:
//   - the service name picks the signer's canonicalisation (S3: the wire path as it is, with
//     x-amz-content-sha256; every other service: the path normalised and encoded twice);
//   - `AwsRequest::headers` carries what a protocol adds (DynamoDB's x-amz-target, S3's range);
//   - `AwsRequest::payload_hash` overrides the body's hash (S3's UNSIGNED-PAYLOAD for presigned
//     URLs).
//
//   SignedClient ddb("dynamodb", credentials, region, endpoint, make_http_client(endpoint),
//                    retry, clock);
//   auto res = ddb.send({"POST", "/", {}, {{"x-amz-target", "DynamoDB_20120810.GetItem"}}, body});

#include <chrono>
#include <memory>
#include <string>

#include "aws/config.hpp"
#include "aws/http_client.hpp"
#include "aws/retry.hpp"
#include "aws/sigv4.hpp"
#include "core/error.hpp"
#include "ports/clock.hpp"

namespace qr::aws {

/// A request to an AWS API as a client builds it; SignedClient adds host, date, token, content
/// hash and signature, and the endpoint's base path.
struct AwsRequest {
  std::string method;  ///< "GET", "POST", ...
  /// The path after the endpoint's base path, percent-encoded as it goes on the wire ("/" when
  /// there is none): "/", "/{bucket}/{key}", "/@connections/{id}".
  std::string path;
  Pairs query;       ///< decoded query parameters (encoded and signed by the signer)
  Pairs headers;     ///< headers to sign and send, lower-case names (e.g. x-amz-target)
  std::string body;  ///< request body (may be empty)
  /// What to sign as the payload: empty means the hex SHA-256 of `body`; S3 presigned URLs
  /// pass unsigned_payload.
  std::string payload_hash;
};

/// Signs, sends and retries requests to one AWS service at one endpoint. Not thread-safe (its
/// HttpClient is not): one per thread, as a Lambda handles one event at a time.
class SignedClient {
 public:
  /// `service` is the SigV4 service name ("dynamodb", "s3", "execute-api"); `http` talks to
  /// `endpoint`; `retry` decides about retries and carries the deadline; `clock` dates the
  /// signatures and must outlive this.
  SignedClient(std::string service, Credentials credentials, std::string region, Endpoint endpoint,
               std::unique_ptr<HttpClient> http, RetryPolicy retry, Clock& clock);

  /// Sends `request`, signed afresh for each attempt (a retry after a long backoff must carry
  /// a current date), with the retry policy. The last response, whatever its status, or the
  /// last transport failure (ErrorCode::unavailable).
  Result<HttpResponse> send(const AwsRequest& request);

  /// A presigned URL for `request` (query signing, computed locally: no network call), valid
  /// for `expires_in`. Only host and `request.headers` are signed, so the URL pins exactly
  /// those headers. `request.body` is not sent; `payload_hash` should be unsigned_payload for S3.
  std::string presign(const AwsRequest& request, std::chrono::seconds expires_in) const;

  /// Opens the connection now instead of on the first request (see HttpClient::warm_up).
  Result<void> warm_up() { return http_->warm_up(); }

  /// Attempts made by the last send() (1 when it did not retry); for tests and metrics.
  int last_attempts() const { return last_attempts_; }
  /// Where requests go.
  const Endpoint& endpoint() const { return endpoint_; }

 private:
  SignableRequest signable(const AwsRequest& request) const;

  Signer signer_;
  Endpoint endpoint_;
  std::string host_;  // the Host header: endpoint_.authority(), computed once
  std::unique_ptr<HttpClient> http_;
  RetryPolicy retry_;
  Clock& clock_;
  int last_attempts_ = 0;
};

}  // namespace qr::aws
