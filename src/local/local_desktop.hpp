#pragma once
// A desktop inside this process, which is what `qr-upload receive` is: it creates its session
// through the HTTP API router and listens through the hub like a desktop page's WebSocket, so
// the terminal and the page cannot drift apart.

#include <functional>
#include <string_view>

#include "core/error.hpp"
#include "local/server.hpp"
#include "local/shared_state.hpp"

namespace qr::local {

/// Creates a session for `max_uploads` photos, binds an in-process connection to it with the
/// desktop token, and hands every message for it to `on_message` (JSON text, on an I/O thread).
Result<LocalDesktop> open_local_desktop(SharedState& state, int max_uploads,
                                        std::function<void(std::string_view)> on_message);

}  // namespace qr::local
