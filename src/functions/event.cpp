#include "functions/event.hpp"
#include "core/ascii.hpp"

#include <boost/json/serialize.hpp>

namespace qr::functions {
namespace json = boost::json;
namespace {

const json::object* object_at(const json::object& parent, std::string_view key) {
  const auto* v = parent.if_contains(key);
  return v ? v->if_object() : nullptr;
}

std::optional<std::string> string_at(const json::object& parent, std::string_view key) {
  const auto* v = parent.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

// A string-to-string map; values that are not strings are skipped (API Gateway never sends them,
// and a hand-made event that does is not trusted with them).
std::map<std::string, std::string> string_map(const json::object& parent, std::string_view key,
                                              bool lowercase_keys) {
  std::map<std::string, std::string> out;
  const auto* obj = object_at(parent, key);
  if (!obj) return out;
  for (const auto& [k, v] : *obj) {
    if (!v.is_string()) continue;
    std::string name(k);
    if (lowercase_keys) ascii::lower_in_place(name);
    out.emplace(std::move(name), std::string(v.get_string()));
  }
  return out;
}

}  // namespace

Result<ApiRequest> parse_http_event(const json::value& event) {
  const auto* root = event.if_object();
  if (!root) return fail(ErrorCode::invalid_input, "event is not a JSON object");
  const auto* context = object_at(*root, "requestContext");
  const auto* http = context ? object_at(*context, "http") : nullptr;
  if (!http) return fail(ErrorCode::invalid_input, "event has no requestContext.http");
  ApiRequest request;
  auto method = string_at(*http, "method");
  auto path = string_at(*http, "path");
  if (!path) path = string_at(*root, "rawPath");
  if (!method || !path) return fail(ErrorCode::invalid_input, "event has no method or path");
  // As sent: methods are case-sensitive (RFC 9110), so "post" is not POST.
  request.method = std::move(*method);
  request.path = std::move(*path);
  // A named stage prefixes the path (/prod/sessions); the $default stage does not.
  if (auto stage = string_at(*context, "stage"); stage && *stage != "$default") {
    const std::string prefix = "/" + *stage;
    if (request.path == prefix)
      request.path = "/";
    else if (request.path.starts_with(prefix + "/"))
      request.path.erase(0, prefix.size());
  }
  request.query = string_map(*root, "queryStringParameters", false);
  request.headers = string_map(*root, "headers", true);
  request.request_id = string_at(*context, "requestId").value_or("");
  if (auto body = string_at(*root, "body")) {
    const auto* b64 = root->if_contains("isBase64Encoded");
    if (b64 && b64->is_bool() && b64->get_bool()) {
      auto decoded = base64_decode(*body);
      if (!decoded) return fail(ErrorCode::invalid_input, "body is not valid base64");
      request.body = std::move(*decoded);
    } else {
      request.body = std::move(*body);
    }
  }
  return request;
}

Result<WebSocketEvent> parse_websocket_event(const json::value& event) {
  const auto* root = event.if_object();
  const auto* context = root ? object_at(*root, "requestContext") : nullptr;
  if (!context) return fail(ErrorCode::invalid_input, "event has no requestContext");
  auto route = string_at(*context, "routeKey");
  if (!route) return fail(ErrorCode::invalid_input, "event has no routeKey");
  WebSocketEvent out;
  out.route_key = std::move(*route);
  out.connection_id = string_at(*context, "connectionId").value_or("");
  out.request_id = string_at(*context, "requestId").value_or("");
  out.query = string_map(*root, "queryStringParameters", false);
  return out;
}

bool is_s3_event(const json::value& event) {
  const auto* root = event.if_object();
  const auto* records = root ? root->if_contains("Records") : nullptr;
  if (!records || !records->is_array() || records->get_array().empty()) return false;
  // An S3 notification's records all carry "s3"; one is enough to tell the event type.
  for (const auto& record : records->get_array())
    if (record.is_object() && record.get_object().contains("s3")) return true;
  return false;
}

std::vector<S3Record> parse_s3_records(const json::value& event) {
  std::vector<S3Record> out;
  const auto* root = event.if_object();
  const auto* list = root ? root->if_contains("Records") : nullptr;
  if (!list || !list->is_array()) return out;
  const auto& records = list->get_array();
  out.reserve(records.size());
  for (const auto& value : records) {
    S3Record record;
    if (const auto* obj = value.if_object()) {
      record.event_name = string_at(*obj, "eventName").value_or("");
      if (const auto* s3 = object_at(*obj, "s3")) {
        if (const auto* bucket = object_at(*s3, "bucket"))
          record.bucket = string_at(*bucket, "name").value_or("");
        if (const auto* object = object_at(*s3, "object")) {
          record.raw_key = string_at(*object, "key").value_or("");
          if (const auto* size = object->if_contains("size")) {
            if (size->is_uint64()) record.size = size->get_uint64();
            if (size->is_int64() && size->get_int64() >= 0)
              record.size = static_cast<std::uint64_t>(size->get_int64());
          }
        }
      }
    }
    out.push_back(std::move(record));
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  auto value_of = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int v = value_of(c);
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace qr::functions
