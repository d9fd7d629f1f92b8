// The WebSocket/S3 router: any bytes as the event JSON ($connect, $disconnect, $default, an S3
// notification with any records). It answers {statusCode, body} and never throws.
#include <boost/json.hpp>

#include "common.hpp"
#include "functions/event.hpp"
#include "functions/websocket_event_handler.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto event = qr::fuzz::parse_event(data, size);
  if (!event) return 0;
  (void)qr::functions::parse_websocket_event(*event);
  (void)qr::functions::parse_s3_records(*event);
  qr::fuzz::World world;
  qr::fuzz::require_answer(qr::functions::websocket_event_handler(*event, world.ctx));
  return 0;
}
