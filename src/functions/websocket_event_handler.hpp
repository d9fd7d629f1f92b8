#pragma once
// The spec's Lambda 2 router (websocket_event_handler/lambda_function.py).

#include <boost/json/value.hpp>

#include "handlers/context.hpp"

namespace qr::functions {

/// Routes a WebSocket route event ($connect/$disconnect) or an S3 notification to its handler
/// and returns the response document ({statusCode, body}). Never throws.
boost::json::value websocket_event_handler(const boost::json::value& event, handlers::Context& ctx);

/// True when `response` is the router's answer to an S3 notification some of whose records
/// failed on a storage error. S3 invokes the function asynchronously and ignores the returned
/// document, so such an invocation must end in a function error for Lambda to deliver it again
/// (completion is idempotent, so records that did succeed are no-ops the second time).
bool should_redeliver(const boost::json::value& event, const boost::json::value& response);

}  // namespace qr::functions
