#pragma once
// The local server's edge, with no sockets in it: turns what arrived on a socket into the event
// JSON that API Gateway or S3 would have sent (so the routers cannot tell the deployments apart),
// and reads the routers' answers back without throwing, whatever they hold.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/sigv4.hpp"

namespace qr::local {

/// Header fields as received: names in their original case, in order, repeats kept.
using HeaderFields = std::vector<std::pair<std::string, std::string>>;

/// One HTTP request as the local server read it.
struct LocalRequest {
  std::string_view method;  ///< as sent ("GET")
  std::string_view target;  ///< path and query as sent ("/upload-url?sessionId=...")
  HeaderFields headers;
  std::string_view body;
  std::string request_id;
  std::string source_ip;
};

/// The path of a request target (everything before '?').
std::string_view target_path(std::string_view target);
/// The raw query of a request target (everything after '?', or empty).
std::string_view target_query(std::string_view target);

/// The API Gateway HTTP API (payload format 2.0) event for `request`: header names lower-cased
/// and repeats joined with ',', query parameters decoded and repeats joined with ',', as AWS does.
boost::json::object http_api_event(const LocalRequest& request);

/// The WebSocket API's $connect event for an upgrade to `target` (its query is the event's).
boost::json::object connect_event(std::string_view connection_id, std::string_view request_id,
                                  std::string_view target);
/// The WebSocket API's $disconnect event.
boost::json::object disconnect_event(std::string_view connection_id, std::string_view request_id);
/// The S3 notification for one stored object: an ObjectCreated:Put record with the key
/// form-URL-encoded as S3 encodes it.
boost::json::object object_created_event(std::string_view key, std::uint64_t size);

/// What the request presents to the signer: method, wire path, decoded query, header names
/// lower-cased.
aws::SignableRequest signable_request(std::string_view method, std::string_view target,
                                      const HeaderFields& headers);

/// A router's answer, read defensively: a document that is not what the routers write becomes a
/// 500 rather than an exception on an I/O thread.
struct RouterAnswer {
  int status = 500;
  HeaderFields headers;  ///< the HTTP API response's headers (none for event answers)
  std::string body;      ///< the serialized JSON body
};

/// Reads {statusCode, headers?, body?} as the routers encode it.
RouterAnswer read_router_answer(const boost::json::value& document);

/// An upload the completion handler refused: why, and the status the PUT answers with.
struct UploadRefusal {
  std::string reason;
  unsigned status = 422;

  bool operator==(const UploadRefusal&) const = default;
};

/// The first refusal in an S3 completion answer's body ({"rejections":[{"reason","status"}]}).
std::optional<UploadRefusal> first_rejection(const RouterAnswer& answer);

/// A photo the completion handler accepted ({"completions":[{"key","sessionId","fileName",
/// "index"}]}).
struct AcceptedUpload {
  std::string key;
  std::string session_id;
  std::string file_name;
  int index = 0;
  int uploads_remaining = 0;
};

/// The first accepted photo in an S3 completion answer's body, if any.
std::optional<AcceptedUpload> first_completion(const RouterAnswer& answer);

}  // namespace qr::local
