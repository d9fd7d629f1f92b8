#include "handlers/requests.hpp"

namespace qr::handlers {
namespace {

std::optional<std::string_view> lookup(const std::map<std::string, std::string>& map,
                                       std::string_view name) {
  const auto it = map.find(std::string(name));
  if (it == map.end()) return std::nullopt;
  return std::string_view(it->second);
}

}  // namespace

std::optional<std::string_view> ApiRequest::query_param(std::string_view name) const {
  return lookup(query, name);
}
std::optional<std::string_view> ApiRequest::header(std::string_view name) const {
  return lookup(headers, name);
}
std::optional<std::string_view> WebSocketEvent::query_param(std::string_view name) const {
  return lookup(query, name);
}

Response error_response(int status_code, std::string_view message) {
  return Response{status_code, boost::json::object{{"error", message}}};
}

}  // namespace qr::handlers
