#pragma once
// Decodes the event JSON AWS sends into the requests the handlers take (handlers/requests.hpp).
// The local server builds the same event JSON from its sockets, so this decoding is the one path
// both deployments share.

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "handlers/requests.hpp"

namespace qr::functions {

using handlers::ApiRequest;
using handlers::S3Record;
using handlers::WebSocketEvent;

/// Decodes an HTTP API v2 event; invalid_input if it is not one.
Result<ApiRequest> parse_http_event(const boost::json::value& event);
/// Decodes a WebSocket route event; invalid_input if it is not one.
Result<WebSocketEvent> parse_websocket_event(const boost::json::value& event);
/// True when the event is an S3 notification (has Records with an "s3" member).
bool is_s3_event(const boost::json::value& event);
/// Every record of an S3 notification; records that are malformed are returned with an empty
/// raw_key so the handler can log and skip them.
std::vector<S3Record> parse_s3_records(const boost::json::value& event);

/// Standard base64 decoding (for isBase64Encoded bodies); nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace qr::functions
