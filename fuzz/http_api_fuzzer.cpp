// The HTTP API router with its event decoder: any bytes as the API Gateway v2 event JSON (a
// document that does not parse is skipped: Boost.JSON's own parser is not under test here, but
// its output is). Whatever the event, the router answers a well-formed {statusCode, headers,
// body} and never throws.
#include <boost/json.hpp>

#include "common.hpp"
#include "functions/event.hpp"
#include "functions/http_api_handler.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace json = boost::json;
  boost::system::error_code ec;
  const json::value event =
      json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec) return 0;
  (void)qr::functions::parse_http_event(event);
  qr::fuzz::World world;
  const json::value answer = qr::functions::http_api_handler(event, world.ctx);
  const auto* doc = answer.if_object();
  qr::fuzz::require(doc != nullptr, "the answer is an object");
  const auto* status = doc->if_contains("statusCode");
  qr::fuzz::require(
      status && status->is_int64() && status->get_int64() >= 100 && status->get_int64() <= 599,
      "statusCode is an HTTP status");
  const auto* body = doc->if_contains("body");
  qr::fuzz::require(body && body->is_string(), "body is a string");
  if (!body->get_string().empty()) {
    boost::system::error_code body_ec;
    (void)json::parse(body->get_string(), body_ec);
    qr::fuzz::require(!body_ec, "body is JSON");
  }
  return 0;
}
