// The spec's http_api_handler/lambda_function.py: route, call the handler, encode the answer.
#include "functions/http_api_handler.hpp"

#include "functions/event.hpp"
#include "functions/response.hpp"
#include "handlers/handlers.hpp"

namespace qr::functions {
namespace {

constexpr std::string_view sessions_prefix = "/sessions/";

Response route(const ApiRequest& request, handlers::Context& ctx) {
  const std::string& path = request.path;
  const std::string& method = request.method;
  if (path == "/sessions") {
    if (method == "POST") return handlers::create_session(request, ctx);
    return error_response(405, "Method Not Allowed");
  }
  if (path == "/upload-url") {
    if (method == "GET") return handlers::generate_presigned_url(request, ctx);
    return error_response(405, "Method Not Allowed");
  }
  if (path.starts_with(sessions_prefix) &&
      path.find('/', sessions_prefix.size()) == std::string::npos) {
    if (method == "GET")
      return handlers::get_session(request, std::string_view(path).substr(sessions_prefix.size()),
                                   ctx);
    return error_response(405, "Method Not Allowed");
  }
  return error_response(404, "Not Found");
}

}  // namespace

boost::json::value http_api_handler(const boost::json::value& event, handlers::Context& ctx) {
  return guarded(ctx.log, encode_http_response, [&]() -> boost::json::value {
    auto request = parse_http_event(event);
    if (!request) {
      ctx.log.warn("not an HTTP API event", {{"error", request.error().detail}});
      return encode_http_response(error_response(400, "Bad Request"));
    }
    if (!request->request_id.empty() && ctx.log.request_id().empty())
      ctx.log.set_request_id(request->request_id);
    if (request->method == "OPTIONS") return encode_preflight_response();
    return encode_http_response(route(*request, ctx));
  });
}

}  // namespace qr::functions
