#pragma once
// What both Lambda bootstraps do: init once (configuration, AWS adapters, logger), then run the
// invocation loop with their router. Each main only says which function it is.

#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "handlers/context.hpp"
#include "lambda/runtime_loop.hpp"

namespace qr::lambda {

/// A router: the spec's lambda_handler for one function.
using Router = boost::json::value (*)(const boost::json::value& event, handlers::Context& ctx);

/// Which of the two functions a bootstrap is.
struct FunctionSpec {
  /// Service name when AWS_LAMBDA_FUNCTION_NAME is not set (it is, on Lambda).
  std::string_view default_name;
  /// Whether the function pushes WebSocket messages (needs WS_API_ENDPOINT).
  bool needs_ws_api = false;
  /// The function's router.
  Router router = nullptr;
};

/// Looks a setting up in the function's environment; nullopt when it is not set.
using SettingLookup = std::function<std::optional<std::string>(std::string_view name)>;

/// The handlers' settings from the environment, each optional (the defaults otherwise):
///   MAX_UPLOAD_BYTES       largest upload, in bytes (a positive integer)
///   ALLOWED_CONTENT_TYPES  comma-separated image types the phone may upload (a subset of
///                          image/jpeg,image/png,image/gif,image/webp,image/heic,image/heif,
///                          image/avif)
/// invalid_input naming the setting that is malformed.
Result<handlers::Settings> load_settings(const SettingLookup& env);

/// The environment variables a function reads besides Lambda's own (what --print-env prints).
std::vector<std::string_view> settings_read(const FunctionSpec& spec);

/// The loop's handler for `router`: passes each invocation's deadline (epoch ms, 0 for none) to
/// `set_deadline`, routes the event, and turns an S3 notification whose records failed on a
/// storage error (functions::should_redeliver) into HandlerError "RedeliverEvent", so Lambda
/// delivers the event again; every other outcome is the router's response document.
Handler router_handler(Router router, handlers::Context& context,
                       std::function<void(std::int64_t deadline_ms)> set_deadline);

/// Runs a bootstrap to completion and returns the process exit code. `--print-env` lists the
/// settings the function reads (one per line) and exits: the deployment test checks them.
int run_bootstrap(const FunctionSpec& spec, int argc, char** argv);

}  // namespace qr::lambda
