#pragma once
// The invocation loop: next event, parse, handle, report. The event source is a parameter so
// tests feed it events without a Runtime API.

#include <boost/json/value.hpp>

#include <cstddef>
#include <expected>
#include <functional>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "core/log.hpp"
#include "lambda/invocation.hpp"

namespace qr::lambda {

/// A failure a handler reports as a value; the loop posts it to /invocation/{id}/error, which
/// for an asynchronous invocation (an S3 notification) makes Lambda deliver the event again.
struct HandlerError {
  std::string type;     ///< the error document's errorType, e.g. "RedeliverEvent"
  std::string message;  ///< the error document's errorMessage
};

/// What a handler returns: the response document, or the error to report.
using HandlerResult = std::expected<boost::json::value, HandlerError>;

/// A function's handler: the parsed event and its invocation in, the response document or a
/// HandlerError out. Nothing is expected to escape it; the loop's one catch-all still turns an
/// exception into an invocation error rather than a crash.
using Handler = std::function<HandlerResult(const boost::json::value& event, const Invocation&)>;

/// Function-error types this runtime reports (Lambda-Runtime-Function-Error-Type).
namespace error_types {
inline constexpr std::string_view invalid_event = "Runtime.InvalidEventJson";
inline constexpr std::string_view unhandled = "Runtime.UnhandledException";
inline constexpr std::string_view config_invalid = "Runtime.ConfigInvalid";
/// Prefix of the type of an error a handler returned: "Function." + HandlerError::type.
inline constexpr std::string_view handler_prefix = "Function.";
}  // namespace error_types

/// Processes one event: parses it, calls `handler`, reports the result or the error to `source`.
/// Sets the logger's request id and _X_AMZN_TRACE_ID for the duration. Fails only when the
/// outcome could not be delivered.
Result<void> handle_one(EventSource& source, const NextEvent& event, const Handler& handler,
                        Logger& log);

/// Runs invocations until `source.next()` fails (returns that error) or `max_invocations`
/// have been handled (returns success).
Result<void> run_loop(EventSource& source, const Handler& handler, Logger& log,
                      std::size_t max_invocations = std::numeric_limits<std::size_t>::max());

}  // namespace qr::lambda
