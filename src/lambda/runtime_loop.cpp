#include "lambda/runtime_loop.hpp"

#include <cxxabi.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <typeinfo>

namespace qr::lambda {
namespace {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(mangled);
}

void set_trace_id(const std::string& trace_id) {
  // The X-Ray SDK convention: the current trace header lives in this variable.
  if (trace_id.empty()) {
    ::unsetenv("_X_AMZN_TRACE_ID");
  } else {
    ::setenv("_X_AMZN_TRACE_ID", trace_id.c_str(), 1);
  }
}

Result<void> report_failure(EventSource& source, const Invocation& invocation, ErrorReport report,
                            Logger& log) {
  log.error("Invocation failed", {{"errorType", report.error_type},
                                  {"errorMessage", report.error_message},
                                  {"functionErrorType", report.function_error_type}});
  auto sent = source.fail(invocation, report);
  if (!sent) log.error("Could not report the invocation error", {{"detail", sent.error().detail}});
  return sent;
}

}  // namespace

Result<void> handle_one(EventSource& source, const NextEvent& event, const Handler& handler,
                        Logger& log) {
  const Invocation& invocation = event.invocation;
  log.set_request_id(invocation.request_id);
  set_trace_id(invocation.trace_id);

  boost::system::error_code ec;
  const boost::json::value document = boost::json::parse(event.payload, ec);
  if (ec) {
    return report_failure(source, invocation,
                          {std::string(error_types::invalid_event),
                           "InvalidEventJson",
                           "event is not valid JSON: " + ec.message(),
                           {}},
                          log);
  }

  HandlerResult result;
  std::string body;
  // The one catch-all of the Lambda entry point: whatever escapes the handler becomes an
  // invocation error instead of killing the process (which would cost a cold start). Expected
  // failures do not come this way: the handler returns them as a HandlerError.
  try {
    result = handler(document, invocation);
    if (result) body = boost::json::serialize(*result);
  } catch (const std::exception& e) {
    return report_failure(
        source, invocation,
        {std::string(error_types::unhandled), demangle(typeid(e).name()), e.what(), {}}, log);
  } catch (...) {
    return report_failure(source, invocation,
                          {std::string(error_types::unhandled),
                           "UnknownException",
                           "a non-standard exception escaped the handler",
                           {}},
                          log);
  }
  if (!result) {
    return report_failure(source, invocation,
                          {std::string(error_types::handler_prefix) + result.error().type,
                           result.error().type,
                           result.error().message,
                           {}},
                          log);
  }
  auto sent = source.respond(invocation, body);
  if (!sent && sent.error().code == ErrorCode::invalid_input) {
    // Lambda refused the response (too large): the caller should still learn the outcome.
    return report_failure(source, invocation,
                          {"Runtime.ResponseRejected", "ResponseRejected", sent.error().detail, {}},
                          log);
  }
  if (!sent) log.error("Could not deliver the response", {{"detail", sent.error().detail}});
  return sent;
}

Result<void> run_loop(EventSource& source, const Handler& handler, Logger& log,
                      std::size_t max_invocations) {
  for (std::size_t done = 0; done < max_invocations; ++done) {
    auto event = source.next();
    if (!event) {
      log.set_request_id({});
      return std::unexpected(event.error());
    }
    // A failed delivery is logged in handle_one; the next /next still tells Lambda we are alive.
    (void)handle_one(source, *event, handler, log);
  }
  log.set_request_id({});
  return {};
}

}  // namespace qr::lambda
