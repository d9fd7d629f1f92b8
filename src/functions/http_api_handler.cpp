// The spec's http_api_handler/lambda_function.py: route, call the handler, encode the answer.
#include "functions/http_api_handler.hpp"

#include <array>
#include <optional>

#include "functions/event.hpp"
#include "functions/response.hpp"
#include "handlers/handlers.hpp"

namespace qr::functions {
namespace {

/// What a route's handler is given: the request, the path parameter (if the pattern has one).
using Handler = Response (*)(const ApiRequest&, std::string_view param, handlers::Context&);

struct Route {
  std::string_view method;
  std::string_view pattern;  ///< "/sessions/{sessionId}": a {name} segment matches one segment
  Handler handler;
};

// The HTTP API's one route table: the router dispatches on it and the local server asks it
// which paths are the API's (is_http_api_path).
constexpr std::array routes{
    Route{"POST", "/sessions",
          [](const ApiRequest& r, std::string_view, handlers::Context& c) {
            return handlers::create_session(r, c);
          }},
    Route{"GET", "/upload-url",
          [](const ApiRequest& r, std::string_view, handlers::Context& c) {
            return handlers::generate_presigned_url(r, c);
          }},
    Route{"GET", "/sessions/{sessionId}",
          [](const ApiRequest& r, std::string_view id, handlers::Context& c) {
            return handlers::get_session(r, id, c);
          }},
    Route{"GET", "/c/{code}",
          [](const ApiRequest& r, std::string_view code, handlers::Context& c) {
            return handlers::resolve_short_code(r, code, c);
          }},
    Route{"POST", "/sessions/{sessionId}/complete",
          [](const ApiRequest& r, std::string_view id, handlers::Context& c) {
            return handlers::complete_session(r, id, c);
          }},
};

// The value of the {param} segment when `path` matches `pattern` (empty if it has none).
std::optional<std::string_view> match(std::string_view pattern, std::string_view path) {
  std::string_view param;
  while (!pattern.empty() && !path.empty()) {
    const auto p_end = std::min(pattern.find('/', 1), pattern.size());
    const auto s_end = std::min(path.find('/', 1), path.size());
    const std::string_view p_seg = pattern.substr(0, p_end), s_seg = path.substr(0, s_end);
    if (p_seg.starts_with("/{")) {
      param = s_seg.substr(1);  // may be empty: the handler says what is missing
    } else if (p_seg != s_seg) {
      return std::nullopt;
    }
    pattern.remove_prefix(p_end);
    path.remove_prefix(s_end);
  }
  if (!pattern.empty() || !path.empty()) return std::nullopt;
  return param;
}

Response route(const ApiRequest& request, handlers::Context& ctx) {
  bool path_known = false;
  for (const Route& r : routes) {
    const auto param = match(r.pattern, request.path);
    if (!param) continue;
    path_known = true;
    if (r.method == request.method) return r.handler(request, *param, ctx);
  }
  if (path_known) return error_response(405, "Method Not Allowed");
  return error_response(404, "Not Found");
}

}  // namespace

bool is_http_api_path(std::string_view path) {
  for (const Route& r : routes)
    if (match(r.pattern, path)) return true;
  return false;
}

boost::json::value http_api_handler(const boost::json::value& event, handlers::Context& ctx) {
  auto response = guarded(ctx.log, encode_http_response, [&]() -> boost::json::value {
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
  count_server_error(response, ctx.log);
  return response;
}

}  // namespace qr::functions
