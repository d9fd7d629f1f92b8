#pragma once
// AWS "standard" retry mode: a few attempts, exponential backoff with full jitter, and only for
// throttling and transient failures. Never retries past the caller's deadline.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "aws/http_client.hpp"
#include "core/error.hpp"

namespace qr::aws {

/// How a response or failure should be treated.
enum class Retryability {
  success,    ///< 2xx (or any status the caller handles itself, e.g. 3xx/404)
  throttled,  ///< the service asked to slow down: retry, then ErrorCode::throttled
  transient,  ///< 5xx, timeout, reset: retry, then ErrorCode::unavailable
  permanent,  ///< a 4xx the caller must see at once (validation, conditional check, ...)
};

/// The service's error code of a failed response: the x-amzn-ErrorType header, or the JSON
/// "__type" (after '#'), or the XML <Code>; empty when there is none.
std::string aws_error_code(const HttpResponse& response);

/// Classifies a response: 429 and throttling codes (ThrottlingException,
/// ProvisionedThroughputExceededException, RequestLimitExceeded, SlowDown, ...) are throttled;
/// 500/502/503/504 and TransactionInProgress-like codes are transient; other 4xx permanent.
Retryability classify(const HttpResponse& response);

/// Retry settings and seams.
struct RetryPolicy {
  int max_attempts = 3;                          ///< total attempts, first included
  std::chrono::milliseconds base_delay{50};      ///< backoff before the 2nd attempt, max
  std::chrono::milliseconds max_backoff{20000};  ///< cap of any one backoff
  /// Time left before the caller's deadline (the Lambda context's); default: unbounded.
  std::function<std::chrono::milliseconds()> time_remaining;
  /// Sleeps; tests replace it so they never really sleep.
  std::function<void(std::chrono::milliseconds)> sleep;
  /// Uniform random number in [0, 1) for the jitter.
  std::function<double()> uniform;
  /// Time reserved for the attempt after a backoff: no retry unless backoff + this remains.
  std::chrono::milliseconds min_attempt_time{200};
};

/// A RetryPolicy with the real sleep, a PRNG jitter and no deadline.
RetryPolicy default_retry_policy();

/// What a retried call produced: the last response (any status) or the last transport error,
/// and how many attempts were made.
struct RetryOutcome {
  Result<HttpResponse> result;  ///< last response, or ErrorCode::unavailable for transport
  int attempts = 0;             ///< attempts made
};

/// Calls `attempt` until it succeeds, fails permanently, attempts run out, or the deadline
/// leaves no room for the next backoff. Backoff before attempt n (n >= 2) is uniform in
/// [0, min(max_backoff, base_delay * 2^(n-2))] ("full jitter").
RetryOutcome run_with_retries(const RetryPolicy& policy,
                              const std::function<Result<HttpResponse>()>& attempt);

/// Turns a final non-2xx response into an Error: throttled, unavailable, or `permanent_code`
/// for everything else, with the service's code and message in the detail.
Error error_from_response(const HttpResponse& response, std::string_view operation,
                          ErrorCode permanent_code = ErrorCode::internal);

}  // namespace qr::aws
