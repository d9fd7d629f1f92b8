#include "lambda/runtime_client.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <string>
#include <utility>

#include "aws/config.hpp"
#include "aws/http_client.hpp"

namespace qr::lambda {
namespace {

constexpr std::string_view api_prefix = "/2018-06-01/runtime";
constexpr std::string_view user_agent = "qr-upload-lambda/0.1";

aws::HttpClientOptions runtime_api_options() {
  aws::HttpClientOptions options;
  // Blocking calls and no timeout at all: GET /next blocks until an event arrives, and the
  // sandbox is frozen in between, so any timer would fire spuriously on thaw. The Runtime API is
  // on loopback and answers the POSTs at once.
  options.blocking = true;
  // Events are at most 6 MB (synchronous invocations); leave room for the JSON around them.
  options.max_body = 16 * 1024 * 1024;
  return options;
}

}  // namespace

std::string ErrorReport::to_json() const {
  boost::json::array trace;
  for (const auto& frame : stack_trace) trace.emplace_back(frame);
  return boost::json::serialize(boost::json::object{{"errorMessage", error_message},
                                                    {"errorType", error_type},
                                                    {"stackTrace", std::move(trace)}});
}

RuntimeClient::RuntimeClient(std::string_view endpoint) {
  // AWS_LAMBDA_RUNTIME_API is an authority ("127.0.0.1:9001", "[::1]:9001"), reached over
  // plain HTTP: the endpoint parser of the AWS adapters reads it as an http:// URL.
  auto parsed = aws::parse_endpoint("http://" + std::string(endpoint));
  if (!parsed || !parsed->base_path.empty()) {
    endpoint_error_ = Error{ErrorCode::invalid_input,
                            "malformed AWS_LAMBDA_RUNTIME_API: " + std::string(endpoint)};
    return;
  }
  http_ = aws::make_http_client(*parsed, runtime_api_options());
  post_ = std::make_unique<aws::HttpRequest>(aws::HttpRequest{
      "POST",
      {},
      {{"User-Agent", std::string(user_agent)}, {"Content-Type", "application/json"}},
      {}});
}

RuntimeClient::~RuntimeClient() = default;

Result<NextEvent> RuntimeClient::next() {
  if (endpoint_error_) return std::unexpected(*endpoint_error_);
  static const aws::HttpRequest request{"GET",
                                        std::string(api_prefix) + "/invocation/next",
                                        {{"User-Agent", std::string(user_agent)}},
                                        {}};
  auto response = http_->send(request);
  if (!response) return std::unexpected(response.error());
  if (response->status != 200) {
    return qr::fail(
        ErrorCode::unavailable,
        "GET /next answered " + std::to_string(response->status) + ": " + response->body);
  }
  NextEvent event;
  event.invocation.request_id = response->header("Lambda-Runtime-Aws-Request-Id").value_or("");
  if (event.invocation.request_id.empty()) {
    return qr::fail(ErrorCode::internal, "GET /next without Lambda-Runtime-Aws-Request-Id");
  }
  const std::string deadline = response->header("Lambda-Runtime-Deadline-Ms").value_or("");
  std::from_chars(deadline.data(), deadline.data() + deadline.size(), event.invocation.deadline_ms);
  event.invocation.function_arn =
      response->header("Lambda-Runtime-Invoked-Function-Arn").value_or("");
  event.invocation.trace_id = response->header("Lambda-Runtime-Trace-Id").value_or("");
  event.payload = std::move(response->body);
  return event;
}

Result<void> RuntimeClient::post(std::string_view target, std::string_view body,
                                 std::string_view function_error_type) {
  if (endpoint_error_) return std::unexpected(*endpoint_error_);
  // One request object for every POST: its strings keep their capacity between events.
  aws::HttpRequest& request = *post_;
  request.target.assign(target);
  request.headers.resize(2);  // User-Agent and Content-Type, set once
  if (!function_error_type.empty()) {
    request.headers.emplace_back("Lambda-Runtime-Function-Error-Type",
                                 std::string(function_error_type));
  }
  request.body.assign(body);
  auto response = http_->send(request);
  if (!response) return std::unexpected(response.error());
  // 202 Accepted is the documented answer; 413 means the response was too large.
  if (response->status < 200 || response->status >= 300) {
    return qr::fail(response->status == 413 ? ErrorCode::invalid_input : ErrorCode::internal,
                    "POST " + std::string(target) + " answered " +
                        std::to_string(response->status) + ": " + response->body);
  }
  return {};
}

Result<void> RuntimeClient::respond(const Invocation& invocation, std::string_view body) {
  std::string target(api_prefix);
  target.append("/invocation/").append(invocation.request_id).append("/response");
  return post(target, body, {});
}

Result<void> RuntimeClient::fail(const Invocation& invocation, const ErrorReport& error) {
  std::string target(api_prefix);
  target.append("/invocation/").append(invocation.request_id).append("/error");
  return post(target, error.to_json(), error.function_error_type);
}

Result<void> RuntimeClient::init_error(const ErrorReport& error) {
  static const std::string target = std::string(api_prefix) + "/init/error";
  return post(target, error.to_json(), error.function_error_type);
}

}  // namespace qr::lambda
