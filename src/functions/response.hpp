#pragma once
// The spec's utils/response.py: what handlers answer, and how it is encoded for API Gateway.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <exception>
#include <string_view>

#include "core/log.hpp"
#include "handlers/requests.hpp"

namespace qr::functions {

using handlers::error_response;
using handlers::Response;

/// The spec's response.py: {statusCode, headers (JSON + CORS), body} for the HTTP API.
boost::json::value encode_http_response(const Response& response);
/// The answer to a CORS preflight: 204 with the CORS headers.
boost::json::value encode_preflight_response();
/// {statusCode, body} for WebSocket routes and S3 events.
boost::json::value encode_event_response(const Response& response);

/// The statusCode of a router's response document (0 when it has none).
int status_of(const boost::json::value& response);

/// Counts a 5xx answer in the EMF metric ServerErrors (namespace QrUpload, dimension Service: the
/// function's name), one per response whose statusCode is 500 or more. The 5xx alarms of
/// deploy/template.yaml read it: Lambda counts such answers as successful invocations.
void count_server_error(const boost::json::value& response, Logger& log);

/// Runs a router's body. This is each router's one catch-all: anything thrown becomes a 500
/// (encoded by `encode`) with the detail in the log only.
template <class Body>
boost::json::value guarded(Logger& log, boost::json::value (*encode)(const Response&),
                           Body&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    log.error("unhandled exception", {{"error", e.what()}});
  } catch (...) {
    log.error("unhandled exception", {{"error", "unknown"}});
  }
  return encode(error_response(500, "Internal server error"));
}

}  // namespace qr::functions
