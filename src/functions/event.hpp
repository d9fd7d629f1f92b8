#pragma once
// The typed requests the handlers take, decoded from the event JSON AWS sends, and the
// responses they return, encoded into the JSON AWS expects. The local server builds the same
// event JSON from its sockets, so this decoding is the one path both deployments share.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "functions/response.hpp"

namespace qr::functions {

/// An HTTP API request (payload format 2.0).
struct HttpRequest {
  std::string method;                          ///< requestContext.http.method, uppercase
  std::string path;                            ///< path without the stage prefix
  std::map<std::string, std::string> query;    ///< queryStringParameters
  std::map<std::string, std::string> headers;  ///< headers, names lowercase
  std::optional<std::string> body;             ///< decoded body (base64 undone), if any
  std::string request_id;                      ///< requestContext.requestId

  /// The query parameter `name`, if present.
  std::optional<std::string_view> query_param(std::string_view name) const;
  /// The header `name` (lowercase), if present.
  std::optional<std::string_view> header(std::string_view name) const;
};

/// A WebSocket route event ($connect, $disconnect).
struct WebSocketEvent {
  std::string route_key;                     ///< requestContext.routeKey
  std::string connection_id;                 ///< requestContext.connectionId
  std::map<std::string, std::string> query;  ///< queryStringParameters ($connect only)
  std::string request_id;                    ///< requestContext.requestId

  std::optional<std::string_view> query_param(std::string_view name) const;
};

/// One record of an S3 event notification.
struct S3Record {
  std::string event_name;             ///< e.g. "ObjectCreated:Put"
  std::string bucket;                 ///< s3.bucket.name
  std::string raw_key;                ///< s3.object.key as delivered (form-URL-encoded)
  std::optional<std::uint64_t> size;  ///< s3.object.size
};

/// Decodes an HTTP API v2 event; invalid_input if it is not one.
Result<HttpRequest> parse_http_event(const boost::json::value& event);
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
