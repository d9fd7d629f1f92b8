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

// True for a $connect route event (whatever else is wrong with it).
bool is_connect(const boost::json::value& event) {
  const auto* root = event.if_object();
  const auto* context = root ? root->if_contains("requestContext") : nullptr;
  const auto* route_key =
      context && context->is_object() ? context->get_object().if_contains("routeKey") : nullptr;
  return route_key && route_key->is_string() && route_key->get_string() == "$connect";
}

}  // namespace

boost::json::value websocket_event_handler(const boost::json::value& event,
                                           handlers::Context& ctx) {
  auto response = guarded(ctx.log, encode_event_response,
                          [&] { return encode_event_response(route(event, ctx)); });
  count_server_error(response, ctx.log);
  // API Gateway refuses the WebSocket whenever $connect answers other than 2xx: count each
  // refusal here, whichever check (or failure) made it.
  if (const int status = status_of(response); is_connect(event) && (status < 200 || status > 299))
    ctx.log.metric("WebSocketConnectFailures", 1);
  return response;
}

bool should_redeliver(const boost::json::value& event, const boost::json::value& response) {
  return is_s3_event(event) && status_of(response) >= 500;
}

}  // namespace qr::functions
