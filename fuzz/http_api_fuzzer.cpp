// The HTTP API router with its event decoder: any bytes as the API Gateway v2 event JSON (a
// document that does not parse is skipped: Boost.JSON's own parser is not under test here, but
// its output is). Whatever the event, the router answers a well-formed {statusCode, headers,
// body} and never throws.
#include <boost/json.hpp>

#include "common.hpp"
#include "functions/event.hpp"
#include "functions/http_api_handler.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto event = qr::fuzz::parse_event(data, size);
  if (!event) return 0;
  (void)qr::functions::parse_http_event(*event);
  qr::fuzz::World world;
  const boost::json::value answer = qr::functions::http_api_handler(*event, world.ctx);
  const auto& doc = qr::fuzz::require_answer(answer);
  const auto* body = doc.if_contains("body");
  qr::fuzz::require(body && body->is_string(), "body is a string");
  if (!body->get_string().empty()) {
    boost::system::error_code body_ec;
    (void)boost::json::parse(body->get_string(), body_ec);
    qr::fuzz::require(!body_ec, "body is JSON");
  }
  return 0;
}
