#pragma once
// The spec's Lambda 1 router (http_api_handler/lambda_function.py).

#include <boost/json/value.hpp>

#include <string_view>

#include "handlers/context.hpp"

namespace qr::functions {

/// Routes an API Gateway HTTP API (payload format 2.0) event to its handler and returns the
/// response document API Gateway expects ({statusCode, headers, body}). Never throws.
boost::json::value http_api_handler(const boost::json::value& event, handlers::Context& ctx);

/// True when `path` is a route of the HTTP API, whatever the method (the local server sends these
/// to the router and serves every other path itself).
bool is_http_api_path(std::string_view path);

}  // namespace qr::functions
