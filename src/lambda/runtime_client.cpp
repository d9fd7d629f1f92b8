#include "lambda/runtime_client.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <string>
#include <utility>

namespace qr::lambda {
namespace {

constexpr std::string_view api_prefix = "/2018-06-01/runtime";
constexpr std::string_view user_agent = "qr-upload-lambda/0.1";

std::pair<std::string, std::string> split_endpoint(std::string_view endpoint) {
  // IPv6 literals come bracketed: "[::1]:9001".
  if (!endpoint.empty() && endpoint.front() == '[') {
    const std::size_t close = endpoint.find(']');
    if (close != std::string_view::npos) {
      std::string_view port = endpoint.substr(close + 1);
      if (!port.empty() && port.front() == ':') port.remove_prefix(1);
      return {std::string(endpoint.substr(1, close - 1)), std::string(port.empty() ? "80" : port)};
    }
  }
  const std::size_t colon = endpoint.rfind(':');
  if (colon == std::string_view::npos) return {std::string(endpoint), "80"};
  return {std::string(endpoint.substr(0, colon)), std::string(endpoint.substr(colon + 1))};
}

}  // namespace

std::string ErrorReport::to_json() const {
  boost::json::array trace;
  for (const auto& frame : stack_trace) trace.emplace_back(frame);
  return boost::json::serialize(boost::json::object{{"errorMessage", error_message},
                                                    {"errorType", error_type},
                                                    {"stackTrace", std::move(trace)}});
}

RuntimeClient::RuntimeClient(std::string_view endpoint)
    : connection_(split_endpoint(endpoint).first, split_endpoint(endpoint).second) {}

Result<NextEvent> RuntimeClient::next() {
  static const std::string target = std::string(api_prefix) + "/invocation/next";
  auto response = connection_.request("GET", target, {{"User-Agent", user_agent}}, {});
  if (!response) return std::unexpected(response.error());
  if (response->status != 200) {
    return qr::fail(
        ErrorCode::unavailable,
        "GET /next answered " + std::to_string(response->status) + ": " + response->body);
  }
  NextEvent event;
  event.invocation.request_id = response->header("Lambda-Runtime-Aws-Request-Id");
  if (event.invocation.request_id.empty()) {
    return qr::fail(ErrorCode::internal, "GET /next without Lambda-Runtime-Aws-Request-Id");
  }
  const std::string_view deadline = response->header("Lambda-Runtime-Deadline-Ms");
  std::from_chars(deadline.data(), deadline.data() + deadline.size(), event.invocation.deadline_ms);
  event.invocation.function_arn = response->header("Lambda-Runtime-Invoked-Function-Arn");
  event.invocation.trace_id = response->header("Lambda-Runtime-Trace-Id");
  event.payload = std::move(response->body);
  return event;
}

Result<void> RuntimeClient::post(std::string_view target, std::string_view body,
                                 std::string_view function_error_type) {
  std::vector<std::pair<std::string_view, std::string_view>> headers{
      {"User-Agent", user_agent}, {"Content-Type", "application/json"}};
  if (!function_error_type.empty()) {
    headers.emplace_back("Lambda-Runtime-Function-Error-Type", function_error_type);
  }
  auto response = connection_.request("POST", target, headers, body);
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
