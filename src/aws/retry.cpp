#include "aws/retry.hpp"

#include <algorithm>
#include <array>
#include <random>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace qr::aws {
namespace {

// The error codes AWS's standard retry mode treats as throttling.
constexpr std::array<std::string_view, 11> throttling_codes = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "SlowDown",
};

constexpr std::array<std::string_view, 4> transient_codes = {
    "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", "InternalError"};

}  // namespace

std::string aws_error_code(const HttpResponse& response) {
  auto strip = [](std::string code) {
    // "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException" and "Code:detail" forms.
    if (const auto hash = code.rfind('#'); hash != std::string::npos) code = code.substr(hash + 1);
    if (const auto colon = code.find(':'); colon != std::string::npos) code.resize(colon);
    return code;
  };
  if (auto h = response.header("x-amzn-ErrorType")) return strip(*h);
  const std::string_view body = response.body;
  if (!body.empty() && body.front() == '{') {
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(body, ec);
    if (!ec && v.is_object()) {
      if (const auto* t = v.as_object().if_contains("__type"); t && t->is_string()) {
        return strip(std::string(t->as_string()));
      }
      if (const auto* t = v.as_object().if_contains("code"); t && t->is_string()) {
        return strip(std::string(t->as_string()));
      }
    }
    return {};
  }
  if (const auto open = body.find("<Code>"); open != std::string_view::npos) {
    const auto close = body.find("</Code>", open);
    if (close != std::string_view::npos)
      return std::string(body.substr(open + 6, close - open - 6));
  }
  return {};
}

Retryability classify(const HttpResponse& response) {
  const int s = response.status;
  if (s < 400) return Retryability::success;
  if (s == 429) return Retryability::throttled;
  const std::string code = aws_error_code(response);
  for (auto t : throttling_codes) {
    if (code == t) return Retryability::throttled;
  }
  for (auto t : transient_codes) {
    if (code == t) return Retryability::transient;
  }
  if (s == 500 || s == 502 || s == 503 || s == 504) return Retryability::transient;
  return Retryability::permanent;
}

RetryPolicy default_retry_policy() {
  RetryPolicy p;
  p.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  // Jitter only spreads retries out; it needs no cryptographic randomness.
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  p.uniform = [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
  return p;
}

RetryOutcome run_with_retries(const RetryPolicy& policy,
                              const std::function<Result<HttpResponse>()>& attempt) {
  RetryOutcome out{fail(ErrorCode::internal, "no attempt made"), 0};
  const int max_attempts = std::max(1, policy.max_attempts);
  for (int n = 1; n <= max_attempts; ++n) {
    out.result = attempt();
    out.attempts = n;
    if (out.result) {
      const Retryability r = classify(*out.result);
      if (r == Retryability::success || r == Retryability::permanent) return out;
    } else if (out.result.error().code != ErrorCode::unavailable) {
      return out;  // not a transport failure (e.g. a bad request we built): retrying won't help
    }
    if (n == max_attempts) break;

    const auto cap = std::min<std::chrono::milliseconds::rep>(
        policy.max_backoff.count(), policy.base_delay.count() << std::min(n - 1, 20));
    const double u = policy.uniform ? policy.uniform() : 0.5;
    const std::chrono::milliseconds backoff{
        static_cast<std::int64_t>(u * static_cast<double>(cap))};
    if (policy.time_remaining) {
      // Never start a backoff the Lambda deadline would cut short: report what we have.
      if (policy.time_remaining() < backoff + policy.min_attempt_time) break;
    }
    if (policy.sleep && backoff.count() > 0) policy.sleep(backoff);
  }
  return out;
}

Error error_from_response(const HttpResponse& response, std::string_view operation,
                          ErrorCode permanent_code) {
  const std::string code = aws_error_code(response);
  std::string detail = std::string(operation) + " failed: HTTP " + std::to_string(response.status);
  if (!code.empty()) detail += " " + code;
  // The message can help an operator; bodies of AWS errors hold no secrets. Keep it short.
  if (!response.body.empty()) detail += ": " + response.body.substr(0, 300);
  switch (classify(response)) {
    case Retryability::throttled:
      return Error{ErrorCode::throttled, std::move(detail)};
    case Retryability::transient:
      return Error{ErrorCode::unavailable, std::move(detail)};
    default:
      return Error{permanent_code, std::move(detail)};
  }
}

}  // namespace qr::aws
