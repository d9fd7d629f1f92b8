#pragma once
// The spec's Lambda 2 router (websocket_event_handler/lambda_function.py).

#include <boost/json/value.hpp>

#include "handlers/context.hpp"

namespace qr::functions {

/// Routes a WebSocket route event ($connect/$disconnect) or an S3 notification to its handler
/// and returns the response document ({statusCode, body}). Never throws.
boost::json::value websocket_event_handler(const boost::json::value& event, handlers::Context& ctx);

}  // namespace qr::functions
