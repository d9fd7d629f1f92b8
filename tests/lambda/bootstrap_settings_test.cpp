// The handlers' settings a bootstrap reads from its environment (deploy/template.yaml gives both
// functions MAX_UPLOAD_BYTES and ALLOWED_CONTENT_TYPES), and the list --print-env prints.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "functions/http_api_handler.hpp"
#include "functions/websocket_event_handler.hpp"
#include "lambda/bootstrap.hpp"

namespace qr::lambda {
namespace {

SettingLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(BootstrapSettings, WithoutSettingsTheDefaults) {
  auto settings = load_settings(env_of({}));
  ASSERT_TRUE(settings) << settings.error().detail;
  EXPECT_EQ(settings->max_upload_bytes, constants::default_max_upload_bytes);
  EXPECT_EQ(settings->allowed_types.joined(),
            "image/jpeg,image/png,image/gif,image/webp,image/heic,image/heif,image/avif");
}

TEST(BootstrapSettings, TheStacksAllowListAndSizeLimitAreRead) {
  auto settings = load_settings(
      env_of({{"ALLOWED_CONTENT_TYPES", "image/jpeg,image/png"}, {"MAX_UPLOAD_BYTES", "1048576"}}));
  ASSERT_TRUE(settings) << settings.error().detail;
  EXPECT_EQ(settings->allowed_types.joined(), "image/jpeg,image/png");
  EXPECT_FALSE(settings->allowed_types.find("image/heic"));
  EXPECT_EQ(settings->max_upload_bytes, 1048576u);
}

TEST(BootstrapSettings, ThePhonePageForTypedShortLinksIsRead) {
  EXPECT_EQ(load_settings(env_of({}))->phone_page_url, "") << "unset: GET /c/{code} answers JSON";
  auto settings =
      load_settings(env_of({{"PHONE_PAGE_URL", "https://d111.cloudfront.net/phone.html"}}));
  ASSERT_TRUE(settings) << settings.error().detail;
  EXPECT_EQ(settings->phone_page_url, "https://d111.cloudfront.net/phone.html");
}

TEST(BootstrapSettings, AMalformedSettingIsNamed) {
  for (const auto& [name, value, detail] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"ALLOWED_CONTENT_TYPES", "image/jpeg,text/html",
            "malformed setting ALLOWED_CONTENT_TYPES: unsupported image type text/html"},
           {"ALLOWED_CONTENT_TYPES", ",",
            "malformed setting ALLOWED_CONTENT_TYPES: no image type given"},
           {"MAX_UPLOAD_BYTES", "lots", "malformed setting MAX_UPLOAD_BYTES: lots"},
           {"MAX_UPLOAD_BYTES", "0", "malformed setting MAX_UPLOAD_BYTES: 0"},
           {"PHONE_PAGE_URL", "d111.cloudfront.net/phone.html",
            "malformed setting PHONE_PAGE_URL: d111.cloudfront.net/phone.html"}}) {
    auto settings = load_settings(env_of({{name, value}}));
    ASSERT_FALSE(settings) << name << "=" << value;
    EXPECT_EQ(settings.error().code, ErrorCode::invalid_input);
    EXPECT_EQ(settings.error().detail, detail);
  }
}

TEST(BootstrapSettings, PrintEnvListsWhatEachFunctionReads) {
  const FunctionSpec http{"qr-upload-http-api", false, &functions::http_api_handler};
  const FunctionSpec ws{"qr-upload-websocket-event", true, &functions::websocket_event_handler};
  EXPECT_EQ(settings_read(http),
            (std::vector<std::string_view>{"SESSIONS_TABLE_NAME", "UPLOAD_BUCKET_NAME",
                                           "MAX_UPLOAD_BYTES", "ALLOWED_CONTENT_TYPES",
                                           "PHONE_PAGE_URL"}));
  EXPECT_EQ(settings_read(ws), (std::vector<std::string_view>{
                                   "SESSIONS_TABLE_NAME", "UPLOAD_BUCKET_NAME", "WS_API_ENDPOINT",
                                   "MAX_UPLOAD_BYTES", "ALLOWED_CONTENT_TYPES"}));
}

}  // namespace
}  // namespace qr::lambda
