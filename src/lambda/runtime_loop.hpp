#pragma once
// The invocation loop: next event, parse, handle, report. The event source is a parameter so
// tests feed it events without a Runtime API.

#include <boost/json/value.hpp>

#include <cstddef>
#include <functional>
#include <limits>

#include "core/error.hpp"
#include "core/log.hpp"
#include "lambda/invocation.hpp"

namespace qr::lambda {

/// A function's handler: the parsed event and its invocation in, the response document out.
/// It may throw; the loop turns any exception into an invocation error.
using Handler =
    std::function<boost::json::value(const boost::json::value& event, const Invocation&)>;

/// Function-error types this runtime reports (Lambda-Runtime-Function-Error-Type).
namespace error_types {
inline constexpr std::string_view invalid_event = "Runtime.InvalidEventJson";
inline constexpr std::string_view unhandled = "Runtime.UnhandledException";
inline constexpr std::string_view config_invalid = "Runtime.ConfigInvalid";
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
