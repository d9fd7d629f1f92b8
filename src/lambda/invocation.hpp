#pragma once
// What the Lambda loop exchanges with its event source: one invocation, its event, its outcome.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace qr::lambda {

/// The metadata Lambda sends with each event (the Lambda-Runtime-* headers of GET /next).
struct Invocation {
  /// Lambda-Runtime-Aws-Request-Id.
  std::string request_id;
  /// Lambda-Runtime-Deadline-Ms: when the invocation times out, in epoch milliseconds.
  std::int64_t deadline_ms = 0;
  /// Lambda-Runtime-Invoked-Function-Arn.
  std::string function_arn;
  /// Lambda-Runtime-Trace-Id (X-Ray), copied into _X_AMZN_TRACE_ID for the invocation.
  std::string trace_id;

  /// Milliseconds left before the deadline at `now_ms` (negative once it has passed).
  std::int64_t remaining_ms(std::int64_t now_ms) const { return deadline_ms - now_ms; }
};

/// One event to process: its metadata and its raw JSON payload.
struct NextEvent {
  /// The invocation's metadata.
  Invocation invocation;
  /// The event document as received (JSON text, not yet parsed).
  std::string payload;
};

/// An error as the Runtime API takes it, for /invocation/{id}/error and /init/error.
struct ErrorReport {
  /// Lambda-Runtime-Function-Error-Type header, "Category.Reason" (e.g. Runtime.ConfigInvalid).
  std::string function_error_type;
  /// The body's errorType (e.g. the C++ exception type).
  std::string error_type;
  /// The body's errorMessage.
  std::string error_message;
  /// The body's stackTrace (C++ has none to offer; usually empty).
  std::vector<std::string> stack_trace;

  /// The JSON body {errorMessage, errorType, stackTrace}.
  std::string to_json() const;
};

/// Where invocations come from and where their outcomes go: the Runtime API in production,
/// a scripted fake in tests.
class EventSource {
 public:
  virtual ~EventSource() = default;
  /// Blocks until the next event; an error means the source is finished or broken.
  virtual Result<NextEvent> next() = 0;
  /// Reports a successful result (a JSON document) for `invocation`.
  virtual Result<void> respond(const Invocation& invocation, std::string_view body) = 0;
  /// Reports a failed invocation.
  virtual Result<void> fail(const Invocation& invocation, const ErrorReport& error) = 0;
};

}  // namespace qr::lambda
