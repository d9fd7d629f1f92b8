#include "aws/dynamodb_client.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace qr::aws {

DynamoDbClient::DynamoDbClient(Credentials credentials, std::string region, Endpoint endpoint,
                               std::unique_ptr<HttpClient> http, RetryPolicy retry, Clock& clock)
    : aws_("dynamodb", std::move(credentials), std::move(region), std::move(endpoint),
           std::move(http), std::move(retry), clock) {}

std::expected<boost::json::object, DynamoDbError> DynamoDbClient::call(
    std::string_view operation, const boost::json::object& request) {
  // The operation travels in x-amz-target; every call is a POST of JSON to the root path.
  auto res = aws_.send({"POST",
                        "/",
                        {},
                        {{"content-type", "application/x-amz-json-1.0"},
                         {"x-amz-target", "DynamoDB_20120810." + std::string(operation)}},
                        boost::json::serialize(request),
                        {}});
  if (!res) return std::unexpected(DynamoDbError{res.error(), {}});
  if (res->status / 100 != 2) {
    DynamoDbError err{error_from_response(*res, "DynamoDB " + std::string(operation)),
                      aws_error_code(*res)};
    if (err.aws_code == "ConditionalCheckFailedException") {
      err.error.code = ErrorCode::condition_failed;
    }
    return std::unexpected(std::move(err));
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(res->body, ec);
  if (ec || !v.is_object()) {
    return std::unexpected(DynamoDbError{
        Error{ErrorCode::internal, "DynamoDB " + std::string(operation) + ": malformed response"},
        {}});
  }
  return std::move(v.as_object());
}

}  // namespace qr::aws
