#include "local/local_desktop.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/session.hpp"
#include "functions/http_api_handler.hpp"
#include "functions/websocket_event_handler.hpp"

namespace qr::local {
namespace json = boost::json;

namespace {

// The hub's view of the in-process desktop: messages go to a callback instead of a socket.
class CallbackConnection final : public HubConnection {
 public:
  explicit CallbackConnection(std::function<void(std::string_view)> on_message)
      : on_message_(std::move(on_message)) {}
  void send_text(std::string message) override { on_message_(message); }

 private:
  std::function<void(std::string_view)> on_message_;
};

}  // namespace

Result<LocalDesktop> open_local_desktop(SharedState& state, int max_uploads,
                                        std::function<void(std::string_view)> on_message) {
  const std::string body = json::serialize(json::object{{"maxUploads", max_uploads}});
  const LocalRequest create{"POST", "/sessions", {}, body, state.new_id(), "127.0.0.1"};
  const auto created = state.call(functions::http_api_handler, http_api_event(create));
  boost::system::error_code ec;
  const auto parsed = json::parse(created.body, ec);
  const auto* fields = parsed.if_object();
  const auto* id = fields ? fields->if_contains("sessionId") : nullptr;
  const auto* token = fields ? fields->if_contains("desktopToken") : nullptr;
  if (created.status != 200 || !id || !id->is_string() || !token || !token->is_string())
    return fail(ErrorCode::internal, "cannot create a session: " + created.body);
  const std::string session_id(id->get_string());

  auto connection = std::make_shared<CallbackConnection>(std::move(on_message));
  const std::string connection_id = "local-" + state.new_id();
  state.hub.add(connection_id, connection);
  state.local_connections.push_back(connection);  // the hub holds only a weak reference
  const std::string target =
      "/ws?sessionId=" + session_id + "&token=" + std::string(token->get_string());
  const auto connected = state.call(functions::websocket_event_handler,
                                    connect_event(connection_id, state.new_id(), target));
  if (connected.status != 200)
    return fail(ErrorCode::internal, "cannot listen to the session: " + connected.body);
  return LocalDesktop{session_id, state.options.public_url + "/phone.html?sessionId=" + session_id,
                      state.options.public_url + "/c/" + short_code_of(session_id)};
}

}  // namespace qr::local
