#include "local/http_messages.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>

namespace qr::local {
namespace http = boost::beast::http;

HeaderFields fields_of(const http::request_header<>& header) {
  HeaderFields out;
  for (const auto& field : header) out.emplace_back(field.name_string(), field.value());
  return out;
}

StringResponse json_response(unsigned status, const boost::json::object& body, unsigned version,
                             bool keep_alive) {
  StringResponse res{static_cast<http::status>(status), version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::access_control_allow_origin, "*");
  res.set(http::field::cache_control, "no-store");
  res.body() = boost::json::serialize(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

StringResponse error_json(unsigned status, std::string_view message, unsigned version,
                          bool keep_alive) {
  return json_response(status, {{"error", message}}, version, keep_alive);
}

StringResponse from_router(const RouterAnswer& answer, unsigned version, bool keep_alive) {
  StringResponse res{static_cast<http::status>(answer.status), version};
  for (const auto& [name, value] : answer.headers) res.set(name, value);
  res.body() = answer.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

}  // namespace qr::local
