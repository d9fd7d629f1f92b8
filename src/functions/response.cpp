#include "functions/response.hpp"

#include <boost/json/serialize.hpp>

namespace qr::functions {
namespace json = boost::json;
namespace {

json::object cors_headers() {
  return {{"Content-Type", "application/json"},
          {"Access-Control-Allow-Origin", "*"},
          {"Access-Control-Allow-Methods", "GET, POST, OPTIONS"},
          {"Access-Control-Allow-Headers", "Content-Type, Authorization"},
          {"Cache-Control", "no-store"}};
}

}  // namespace

json::value encode_http_response(const Response& response) {
  return json::object{{"statusCode", response.status_code},
                      {"headers", cors_headers()},
                      {"body", json::serialize(response.body)},
                      {"isBase64Encoded", false}};
}

json::value encode_preflight_response() {
  json::object headers = cors_headers();
  headers.erase("Content-Type");
  headers["Access-Control-Max-Age"] = "600";
  return json::object{{"statusCode", 204}, {"headers", headers}, {"body", ""}};
}

json::value encode_event_response(const Response& response) {
  return json::object{{"statusCode", response.status_code},
                      {"body", json::serialize(response.body)}};
}

}  // namespace qr::functions
