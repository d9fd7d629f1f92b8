// The WebSocket/S3 router: any bytes as the event JSON ($connect, $disconnect, $default, an S3
// notification with any records). It answers {statusCode, body} and never throws.
#include <boost/json.hpp>

#include "common.hpp"
#include "functions/event.hpp"
#include "functions/websocket_event_handler.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace json = boost::json;
  boost::system::error_code ec;
  const json::value event =
      json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec) return 0;
  (void)qr::functions::parse_websocket_event(event);
  (void)qr::functions::parse_s3_records(event);
  qr::fuzz::World world;
  const json::value answer = qr::functions::websocket_event_handler(event, world.ctx);
  const auto* doc = answer.if_object();
  qr::fuzz::require(doc != nullptr, "the answer is an object");
  const auto* status = doc->if_contains("statusCode");
  qr::fuzz::require(
      status && status->is_int64() && status->get_int64() >= 100 && status->get_int64() <= 599,
      "statusCode is an HTTP status");
  return 0;
}
