#include "functions/response.hpp"

#include <boost/json/serialize.hpp>

namespace qr::functions {
namespace json = boost::json;
namespace {

// The spec's CORS headers, plus Date among the headers a page of another origin may read (the
// pages correct a wrong clock with it): what the HTTP API's CorsConfiguration answers on AWS,
// where API Gateway replaces these, and what a page served elsewhere reads locally.
json::object cors_headers() {
  return {{"Content-Type", "application/json"},
          {"Access-Control-Allow-Origin", "*"},
          {"Access-Control-Allow-Methods", "GET, POST, OPTIONS"},
          {"Access-Control-Allow-Headers", "Content-Type, Authorization"},
          {"Access-Control-Expose-Headers", "Date"},
          {"Cache-Control", "no-store"}};
}

}  // namespace

json::value encode_http_response(const Response& response) {
  json::object headers = cors_headers();
  for (const auto& [name, value] : response.headers) headers[name] = value;
  return json::object{{"statusCode", response.status_code},
                      {"headers", std::move(headers)},
                      {"body", json::serialize(response.body)},
                      {"isBase64Encoded", false}};
}

json::value encode_preflight_response() {
  json::object headers = cors_headers();
  headers.erase("Content-Type");
  headers["Access-Control-Max-Age"] = "600";
  return json::object{{"statusCode", 204}, {"headers", headers}, {"body", ""}};
}

int status_of(const json::value& response) {
  const auto* doc = response.if_object();
  const auto* status = doc ? doc->if_contains("statusCode") : nullptr;
  return status && status->is_int64() ? static_cast<int>(status->get_int64()) : 0;
}

void count_server_error(const json::value& response, Logger& log) {
  if (status_of(response) >= 500) log.metric("ServerErrors", 1);
}

json::value encode_event_response(const Response& response) {
  return json::object{{"statusCode", response.status_code},
                      {"body", json::serialize(response.body)}};
}

}  // namespace qr::functions
