#include "lambda/bootstrap.hpp"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "aws/adapters.hpp"
#include "aws/config.hpp"
#include "core/log.hpp"
#include "crypto/crypto.hpp"
#include "functions/websocket_event_handler.hpp"
#include "lambda/runtime_client.hpp"
#include "lambda/runtime_loop.hpp"

namespace qr::lambda {
namespace {

constexpr std::string_view max_upload_setting = "MAX_UPLOAD_BYTES";
constexpr std::string_view allowed_types_setting = "ALLOWED_CONTENT_TYPES";
// Where GET /c/{code} sends a browser that typed a short link (the CloudFront phone page).
constexpr std::string_view phone_page_setting = "PHONE_PAGE_URL";

/// Stands in for the notifier in a function that never pushes messages (the HTTP API).
class NoNotifier final : public Notifier {
 public:
  Result<void> send(std::string_view, std::string_view) override {
    return fail(ErrorCode::internal, "this function has no WebSocket API configured");
  }
};

Result<std::uint64_t> max_upload_bytes(const SettingLookup& env) {
  const auto text = env(max_upload_setting);
  if (!text) return constants::default_max_upload_bytes;
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || ptr != text->data() + text->size() || value == 0) {
    return fail(ErrorCode::invalid_input,
                "malformed setting " + std::string(max_upload_setting) + ": " + *text);
  }
  return value;
}

Result<AllowedImageTypes> allowed_types(const SettingLookup& env) {
  const auto text = env(allowed_types_setting);
  if (!text) return AllowedImageTypes{};
  auto parsed = AllowedImageTypes::parse(*text);
  if (!parsed) {
    return fail(
        ErrorCode::invalid_input,
        "malformed setting " + std::string(allowed_types_setting) + ": " + parsed.error().detail);
  }
  return parsed;
}

int init_failed(RuntimeClient& runtime, Logger& log, const std::string& detail) {
  log.error("Init failed", {{"errorType", "ConfigInvalid"}, {"errorMessage", detail}});
  const ErrorReport report{std::string(error_types::config_invalid), "ConfigInvalid", detail, {}};
  if (auto sent = runtime.init_error(report); !sent) {
    log.error("Could not report the init error", {{"detail", sent.error().detail}});
  }
  return 1;
}

}  // namespace

Result<handlers::Settings> load_settings(const SettingLookup& env) {
  handlers::Settings settings;
  auto max_upload = max_upload_bytes(env);
  if (!max_upload) return std::unexpected(max_upload.error());
  settings.max_upload_bytes = *max_upload;
  auto types = allowed_types(env);
  if (!types) return std::unexpected(types.error());
  settings.allowed_types = std::move(*types);
  if (const auto page = env(phone_page_setting); page && !page->empty()) {
    if (!page->starts_with("https://") && !page->starts_with("http://"))
      return fail(ErrorCode::invalid_input,
                  "malformed setting " + std::string(phone_page_setting) + ": " + *page);
    settings.phone_page_url = *page;
  }
  return settings;
}

std::vector<std::string_view> settings_read(const FunctionSpec& spec) {
  std::vector<std::string_view> names{"SESSIONS_TABLE_NAME", "UPLOAD_BUCKET_NAME"};
  if (spec.needs_ws_api) names.push_back("WS_API_ENDPOINT");
  names.push_back(max_upload_setting);
  names.push_back(allowed_types_setting);
  if (!spec.needs_ws_api) names.push_back(phone_page_setting);
  return names;
}

Handler router_handler(Router router, handlers::Context& context,
                       std::function<void(std::int64_t deadline_ms)> set_deadline) {
  return [router, &context, set_deadline = std::move(set_deadline)](
             const boost::json::value& event, const Invocation& invocation) -> HandlerResult {
    set_deadline(invocation.deadline_ms);
    auto response = router(event, context);
    // S3 invokes the function asynchronously and ignores the document: only an invocation
    // error makes Lambda deliver the event again (completion is idempotent).
    if (functions::should_redeliver(event, response)) {
      return std::unexpected(HandlerError{
          "RedeliverEvent",
          "S3 records failed on a storage or notification error; the event will be redelivered"});
    }
    return response;
  };
}

int run_bootstrap(const FunctionSpec& spec, int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--print-env") {
    for (const std::string_view name : settings_read(spec))
      std::printf("%.*s\n", static_cast<int>(name.size()), name.data());
    return 0;
  }

  const aws::EnvLookup env = aws::process_environment();
  Logger log;
  // Metrics carry the function's name in their Service dimension.
  log.set_service(env("AWS_LAMBDA_FUNCTION_NAME").value_or(std::string(spec.default_name)));

  const auto runtime_api = env("AWS_LAMBDA_RUNTIME_API");
  if (!runtime_api) {
    // Without the Runtime API there is nobody to report to but the log.
    log.error("Init failed", {{"errorType", "ConfigInvalid"},
                              {"errorMessage", "AWS_LAMBDA_RUNTIME_API is not set"}});
    return 1;
  }
  RuntimeClient runtime(*runtime_api);

  aws::ConfigNeeds needs;
  needs.ws_api = spec.needs_ws_api;
  auto config = aws::load_config(env, needs);
  if (!config) return init_failed(runtime, log, config.error().detail);
  auto settings = load_settings(env);
  if (!settings) return init_failed(runtime, log, settings.error().detail);

  // Everything below is built once per sandbox and reused by every invocation. The DynamoDB and
  // S3 connections are opened now (warm-up), so the first event does not pay the TLS handshake.
  SystemClock clock;
  crypto::OsRandom random;
  // AWS calls never retry past the invocation's deadline; the handler updates it per event.
  auto deadline = std::make_shared<aws::Deadline>();
  aws::AwsAdapters adapters = aws::make_aws_adapters(*config, clock, deadline, /*warm_up=*/true);
  NoNotifier no_notifier;
  Notifier& notifier = adapters.notifier ? *adapters.notifier : no_notifier;

  handlers::Context context{*adapters.sessions, *adapters.objects, notifier, clock, random, log,
                            *settings};

  const Handler handler = router_handler(spec.router, context, [&](std::int64_t deadline_ms) {
    if (deadline_ms > 0) {
      deadline->set_epoch_ms(deadline_ms);
    } else {
      deadline->clear();
    }
  });
  auto ended = run_loop(runtime, handler, log);
  // run_loop only returns when the Runtime API is gone: exit so Lambda restarts the sandbox.
  log.error("Runtime API failed",
            {{"detail", ended ? std::string("loop ended") : ended.error().detail}});
  return 1;
}

}  // namespace qr::lambda
