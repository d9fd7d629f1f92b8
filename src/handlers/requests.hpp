#pragma once
// What the handlers take and what they answer, independent of how an edge carries them: the
// routers decode AWS's event JSON into these (functions/event.hpp) and encode the answers back
// (functions/response.hpp); the local server builds the same event JSON from its sockets.

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace qr::handlers {

/// An HTTP API request (API Gateway payload format 2.0).
struct ApiRequest {
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

  /// The query parameter `name`, if present.
  std::optional<std::string_view> query_param(std::string_view name) const;
};

/// One record of an S3 event notification.
struct S3Record {
  std::string event_name;             ///< e.g. "ObjectCreated:Put"
  std::string bucket;                 ///< s3.bucket.name
  std::string raw_key;                ///< s3.object.key as delivered (form-URL-encoded)
  std::optional<std::uint64_t> size;  ///< s3.object.size
};

/// A handler's answer: a status and a JSON body.
struct Response {
  int status_code = 200;
  boost::json::object body;
  /// Headers besides the ones every answer carries (Location, for a redirect).
  std::map<std::string, std::string> headers = {};
};

/// Shorthand for {"error": message} with a status.
Response error_response(int status_code, std::string_view message);

}  // namespace qr::handlers
