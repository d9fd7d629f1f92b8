// The spec's websocket_event_handler/lambda_function.py: WebSocket routes and S3 notifications.
#include "functions/websocket_event_handler.hpp"

#include "functions/event.hpp"
#include "functions/response.hpp"
#include "handlers/handlers.hpp"

namespace qr::functions {
namespace {

Response route(const boost::json::value& event, handlers::Context& ctx) {
  const auto* root = event.if_object();
  if (root && root->contains("requestContext")) {
    auto ws = parse_websocket_event(event);
    if (!ws) return error_response(400, "Unknown event type");
    if (!ws->request_id.empty() && ctx.log.request_id().empty())
      ctx.log.set_request_id(ws->request_id);
    if (ws->route_key == "$connect") return handlers::websocket_connect(*ws, ctx);
    if (ws->route_key == "$disconnect") return handlers::websocket_disconnect(*ws, ctx);
    ctx.log.warn("unknown route", {{"routeKey", ws->route_key}});
    return error_response(400, "Unknown route");
  }
  if (is_s3_event(event)) {
    const auto records = parse_s3_records(event);
    return handlers::s3_upload_completion(records, ctx);
  }
  ctx.log.warn("unknown event type");
  return error_response(400, "Unknown event type");
}

}  // namespace

boost::json::value websocket_event_handler(const boost::json::value& event,
                                           handlers::Context& ctx) {
  return guarded(ctx.log, encode_event_response,
                 [&] { return encode_event_response(route(event, ctx)); });
}

bool should_redeliver(const boost::json::value& event, const boost::json::value& response) {
  if (!is_s3_event(event)) return false;
  const auto* doc = response.if_object();
  const auto* status = doc ? doc->if_contains("statusCode") : nullptr;
  return status && status->is_int64() && status->get_int64() >= 500;
}

}  // namespace qr::functions
