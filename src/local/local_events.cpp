#include "local/local_events.hpp"

#include <boost/json/parse.hpp>

#include "core/ascii.hpp"

namespace qr::local {
namespace json = boost::json;
namespace {

// Adds `value` under `name`, joining a repeat with ',' as API Gateway does.
void add_joined(json::object& object, std::string_view name, std::string_view value) {
  if (auto* existing = object.if_contains(name); existing && existing->is_string()) {
    json::string& joined = existing->get_string();
    joined.append(",");
    joined.append(value);
  } else {
    object[name] = value;
  }
}

// The query as API Gateway hands it to a function: form-decoded, so '+' is a space (a browser's
// URLSearchParams writes spaces so) and "%2B" a plus. Signatures are checked on the raw query
// (signable_request), never on this.
json::object decoded_query(std::string_view target) {
  std::string raw(target_query(target));
  for (char& c : raw)
    if (c == '+') c = ' ';
  json::object query;
  for (const auto& [name, value] : aws::parse_query(raw)) add_joined(query, name, value);
  return query;
}

}  // namespace

std::string_view target_path(std::string_view target) {
  return target.substr(0, target.find('?'));
}

std::string_view target_query(std::string_view target) {
  const auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

json::object http_api_event(const LocalRequest& request) {
  const std::string_view path = target_path(request.target);
  json::object headers;
  for (const auto& [name, value] : request.headers) add_joined(headers, ascii::lower(name), value);
  json::object query = decoded_query(request.target);
  json::object event{{"version", "2.0"},
                     {"routeKey", "$default"},
                     {"rawPath", path},
                     {"rawQueryString", target_query(request.target)},
                     {"headers", std::move(headers)},
                     {"requestContext",
                      {{"http",
                        {{"method", request.method},
                         {"path", path},
                         {"protocol", "HTTP/1.1"},
                         {"sourceIp", request.source_ip}}},
                       {"requestId", request.request_id},
                       {"routeKey", "$default"},
                       {"stage", "$default"}}},
                     {"isBase64Encoded", false}};
  if (!query.empty()) event["queryStringParameters"] = std::move(query);
  if (!request.body.empty()) event["body"] = request.body;
  return event;
}

json::object connect_event(std::string_view connection_id, std::string_view request_id,
                           std::string_view target) {
  json::object event{{"requestContext",
                      {{"routeKey", "$connect"},
                       {"eventType", "CONNECT"},
                       {"connectionId", connection_id},
                       {"requestId", request_id}}}};
  if (json::object query = decoded_query(target); !query.empty())
    event["queryStringParameters"] = std::move(query);
  return event;
}

json::object disconnect_event(std::string_view connection_id, std::string_view request_id) {
  return {{"requestContext",
           {{"routeKey", "$disconnect"},
            {"eventType", "DISCONNECT"},
            {"connectionId", connection_id},
            {"requestId", request_id}}}};
}

json::object object_created_event(std::string_view key, std::uint64_t size) {
  return {{"Records", json::array{json::object{
                          {"eventVersion", "2.1"},
                          {"eventSource", "qr-upload:local"},
                          {"eventName", "ObjectCreated:Put"},
                          {"s3",
                           {{"bucket", {{"name", "local"}}},
                            {"object", {{"key", aws::uri_encode(key, true)}, {"size", size}}}}}}}}};
}

aws::SignableRequest signable_request(std::string_view method, std::string_view target,
                                      const HeaderFields& headers) {
  aws::SignableRequest out;
  out.method = std::string(method);
  out.path = std::string(target_path(target));
  out.query = aws::parse_query(target_query(target));
  for (const auto& [name, value] : headers) out.headers.emplace_back(ascii::lower(name), value);
  return out;
}

RouterAnswer read_router_answer(const json::value& document) {
  RouterAnswer answer;
  const auto* doc = document.if_object();
  if (!doc) return answer;
  const auto* status = doc->if_contains("statusCode");
  if (!status) return answer;
  boost::system::error_code ec;
  const auto code = status->to_number<std::int64_t>(ec);
  if (ec || code < 100 || code > 599) return answer;
  if (const auto* headers = doc->if_contains("headers"); headers && headers->is_object())
    for (const auto& [name, value] : headers->get_object())
      if (value.is_string()) answer.headers.emplace_back(name, value.get_string());
  if (const auto* body = doc->if_contains("body"); body && body->is_string())
    answer.body = body->get_string();
  answer.status = static_cast<int>(code);
  return answer;
}

namespace {

// The first object of the array `name` in the answer's JSON body, if there is one.
std::optional<json::object> first_of(const RouterAnswer& answer, std::string_view name) {
  boost::system::error_code ec;
  const json::value body = json::parse(answer.body, ec);
  if (ec || !body.is_object()) return std::nullopt;
  const auto* list = body.get_object().if_contains(name);
  if (!list || !list->is_array() || list->get_array().empty()) return std::nullopt;
  const auto* first = list->get_array().front().if_object();
  return first ? *first : json::object{};
}

std::string text_of(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

std::optional<UploadRefusal> first_rejection(const RouterAnswer& answer) {
  const auto first = first_of(answer, "rejections");
  if (!first) return std::nullopt;
  UploadRefusal refusal{text_of(*first, "reason"), 422};
  if (refusal.reason.empty()) refusal.reason = "Upload rejected";
  if (const auto* status = first->if_contains("status")) {
    boost::system::error_code ec;
    const auto code = status->to_number<unsigned>(ec);
    if (!ec && code >= 400 && code <= 499) refusal.status = code;
  }
  return refusal;
}

std::optional<AcceptedUpload> first_completion(const RouterAnswer& answer) {
  const auto first = first_of(answer, "completions");
  if (!first) return std::nullopt;
  AcceptedUpload accepted{text_of(*first, "key"), text_of(*first, "sessionId"),
                          text_of(*first, "fileName"), 0};
  for (auto [name, field] : {std::pair{"index", &accepted.index},
                             std::pair{"uploadsRemaining", &accepted.uploads_remaining}}) {
    if (const auto* value = first->if_contains(name)) {
      boost::system::error_code ec;
      const auto n = value->to_number<int>(ec);
      if (!ec) *field = n;
    }
  }
  if (accepted.key.empty() || accepted.session_id.empty()) return std::nullopt;
  return accepted;
}

}  // namespace qr::local
