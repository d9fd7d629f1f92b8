#include "aws/dynamodb_client.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace qr::aws {

DynamoDbClient::DynamoDbClient(Credentials credentials, std::string region, Endpoint endpoint,
                               std::unique_ptr<HttpClient> http, RetryPolicy retry, Clock& clock)
    : signer_(std::move(credentials), std::move(region), "dynamodb"),
      endpoint_(std::move(endpoint)),
      http_(std::move(http)),
      retry_(std::move(retry)),
      clock_(clock) {}

std::expected<boost::json::object, DynamoDbError> DynamoDbClient::call(
    std::string_view operation, const boost::json::object& request) {
  const std::string body = boost::json::serialize(request);
  const std::string payload_hash = crypto::sha256_hex(body);
  const std::string path = endpoint_.base_path.empty() ? "/" : endpoint_.base_path + "/";
  const std::string target = "DynamoDB_20120810." + std::string(operation);

  auto attempt = [&]() -> Result<HttpResponse> {
    // Signed afresh per attempt: a retry after a long backoff must carry a current date.
    SignableRequest sreq{"POST",
                         path,
                         {},
                         {{"host", endpoint_.authority()},
                          {"content-type", "application/x-amz-json-1.0"},
                          {"x-amz-target", target}}};
    const HeaderSignature sig = signer_.sign(sreq, payload_hash, clock_.now());
    HttpRequest req{"POST", path, {}, body};
    req.headers.emplace_back("content-type", "application/x-amz-json-1.0");
    req.headers.emplace_back("x-amz-target", target);
    for (const auto& h : sig.headers) req.headers.push_back(h);
    return http_->send(req);
  };
  RetryOutcome outcome = run_with_retries(retry_, attempt);
  last_attempts_ = outcome.attempts;
  if (!outcome.result) {
    return std::unexpected(DynamoDbError{outcome.result.error(), {}});
  }
  const HttpResponse& res = *outcome.result;
  if (res.status / 100 != 2) {
    DynamoDbError err{error_from_response(res, "DynamoDB " + std::string(operation)),
                      aws_error_code(res)};
    if (err.aws_code == "ConditionalCheckFailedException") {
      err.error.code = ErrorCode::condition_failed;
    }
    return std::unexpected(std::move(err));
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(res.body, ec);
  if (ec || !v.is_object()) {
    return std::unexpected(DynamoDbError{
        Error{ErrorCode::internal, "DynamoDB " + std::string(operation) + ": malformed response"},
        {}});
  }
  return std::move(v.as_object());
}

}  // namespace qr::aws
