// The local server's edge (src/local/local_events.cpp), as the socket code feeds it. The input
// is "method\ntarget\nheader lines...\n\nbody"; what comes out must be an event the routers
// decode with the method, path and body intact, and the readers of the routers' answers take any
// document without throwing.
#include <boost/json.hpp>

#include "common.hpp"
#include "functions/event.hpp"
#include "functions/http_api_handler.hpp"
#include "functions/websocket_event_handler.hpp"
#include "local/local_events.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace json = boost::json;
  namespace local = qr::local;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto head_end = input.find("\n\n");
  const std::string_view head = input.substr(0, head_end);
  const std::string_view body =
      head_end == std::string_view::npos ? std::string_view{} : input.substr(head_end + 2);
  const auto parts = qr::fuzz::split(head, 3);
  local::HeaderFields headers;
  for (std::string_view rest = parts[2]; !rest.empty();) {
    const auto nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    const auto colon = line.find(':');
    headers.emplace_back(
        std::string(line.substr(0, colon)),
        colon == std::string_view::npos ? std::string() : std::string(line.substr(colon + 1)));
  }
  const local::LocalRequest request{parts[0], parts[1], headers, body, "request-id", "192.0.2.1"};

  const json::object event = local::http_api_event(request);
  const auto decoded = qr::functions::parse_http_event(event);
  qr::fuzz::require(decoded.has_value(), "the router decodes the edge's event");
  qr::fuzz::require(decoded->method == parts[0], "the method is as sent");
  qr::fuzz::require(decoded->path == local::target_path(parts[1]), "the path is as sent");
  qr::fuzz::require(decoded->body.value_or("") == body, "the body is as sent");

  qr::fuzz::World world;
  const auto answer = local::read_router_answer(qr::functions::http_api_handler(event, world.ctx));
  qr::fuzz::require(answer.status >= 100 && answer.status <= 599, "an HTTP status");

  const json::object connect = local::connect_event("conn", "req", parts[1]);
  qr::fuzz::require(qr::functions::parse_websocket_event(connect).has_value(),
                    "the router decodes the edge's $connect");
  (void)local::read_router_answer(qr::functions::websocket_event_handler(connect, world.ctx));
  (void)local::signable_request(parts[0], parts[1], headers);
  (void)local::object_created_event(body, size);

  // Any document as a router's answer: read without throwing.
  boost::system::error_code ec;
  const json::value doc = json::parse(body, ec);
  if (!ec) {
    const auto read = local::read_router_answer(doc);
    qr::fuzz::require(read.status >= 100 && read.status <= 599, "a status in range");
    (void)local::first_rejection(read);
  }
  return 0;
}
