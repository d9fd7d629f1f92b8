#pragma once
// A whole-router test bed: every port faked, events built as API Gateway and S3 send them.

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "functions/http_api_handler.hpp"
#include "functions/websocket_event_handler.hpp"
#include "support/fakes.hpp"

namespace qr::testing {

namespace json = boost::json;

/// Reads a file from tests/data/aws-events.
inline json::value load_sample(const std::string& name) {
  std::ifstream in(std::string(QR_AWS_EVENTS_DIR) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

class RouterTest : public ::testing::Test {
 protected:
  FakeSessionStore sessions;
  FakeObjectStore objects;
  FakeNotifier notifier;
  FakeClock clock;
  CountingRandom random;
  std::vector<json::object> log_lines;
  Logger log{[this](std::string_view line) { log_lines.push_back(json::parse(line).as_object()); }};
  handlers::Settings settings;
  handlers::Context ctx{sessions, objects, notifier, clock, random, log, settings};

  /// An API Gateway HTTP API v2 event, shaped like AWS's own sample.
  static json::value http_event(std::string method, std::string path, json::object query = {},
                                std::optional<std::string> body = std::nullopt,
                                json::object headers = {}) {
    json::object event = load_sample("apigw-v2-request-no-authorizer.json").as_object();
    event["rawPath"] = path;
    auto& http = event["requestContext"].as_object()["http"].as_object();
    http["method"] = method;
    http["path"] = path;
    if (!query.empty()) event["queryStringParameters"] = query;
    if (body) event["body"] = *body;
    for (auto& [k, v] : headers) event["headers"].as_object()[k] = v;
    return event;
  }

  /// A WebSocket route event, shaped like AWS's own sample.
  static json::value ws_event(std::string route, std::string connection_id,
                              json::object query = {}) {
    json::object event =
        load_sample(route == "$connect" ? "apigw-websocket-request.json"
                                        : "apigw-websocket-request-disconnect.json")
            .as_object();
    auto& rc = event["requestContext"].as_object();
    rc["routeKey"] = route;
    rc["connectionId"] = connection_id;
    event.erase("queryStringParameters");
    event.erase("multiValueQueryStringParameters");
    if (!query.empty()) event["queryStringParameters"] = query;
    return event;
  }

  /// An S3 ObjectCreated notification with one record per key, shaped like AWS's own sample.
  static json::value s3_event(std::initializer_list<std::string> raw_keys,
                              std::string event_name = "ObjectCreated:Put") {
    json::object sample = load_sample("s3-event.json").as_object();
    json::object record_template = sample["Records"].as_array()[0].as_object();
    json::array records;
    for (const auto& key : raw_keys) {
      json::object record = record_template;
      record["eventName"] = event_name;
      record["s3"].as_object()["object"].as_object()["key"] = key;
      records.push_back(record);
    }
    sample["Records"] = records;
    return sample;
  }

  json::object call_http(const json::value& event) {
    return functions::http_api_handler(event, ctx).as_object();
  }
  json::object call_ws(const json::value& event) {
    return functions::websocket_event_handler(event, ctx).as_object();
  }
  static int status(const json::object& response) {
    return static_cast<int>(response.at("statusCode").as_int64());
  }
  static json::object body(const json::object& response) {
    return json::parse(response.at("body").as_string()).as_object();
  }
  static std::string error_of(const json::object& response) {
    return std::string(body(response).at("error").as_string());
  }

  /// Creates a session through the router and returns {sessionId, desktopToken}.
  std::pair<std::string, std::string> create() {
    auto r = call_http(http_event("POST", "/sessions"));
    EXPECT_EQ(status(r), 200);
    auto b = body(r);
    return {std::string(b.at("sessionId").as_string()),
            std::string(b.at("desktopToken").as_string())};
  }

  /// Asks for an upload URL through the router as the phone does: it keeps the uploader token
  /// the first answer gives and presents it on later calls. Returns the body.
  json::object request_upload(const std::string& id, json::object extra = {}) {
    extra["sessionId"] = id;
    json::object headers;
    if (auto it = uploader_tokens.find(id); it != uploader_tokens.end())
      headers["authorization"] = "Bearer " + it->second;
    auto r = call_http(http_event("GET", "/upload-url", extra, std::nullopt, headers));
    EXPECT_EQ(status(r), 200) << json::serialize(r);
    auto b = body(r);
    if (const auto* token = b.if_contains("uploaderToken"))
      uploader_tokens[id] = std::string(token->as_string());
    return b;
  }

  /// The uploader token each session's phone got when it claimed the session.
  std::map<std::string, std::string> uploader_tokens;

  /// The messages sent so far whose action is `action`, parsed.
  std::vector<json::object> sent_with_action(std::string_view action) const {
    std::vector<json::object> out;
    for (const auto& m : notifier.sent) {
      auto parsed = json::parse(m.message).as_object();
      if (parsed.at("action").as_string() == action) out.push_back(std::move(parsed));
    }
    return out;
  }

  bool logged(std::string_view message) const {
    for (const auto& l : log_lines)
      if (const auto* m = l.if_contains("message"); m && m->as_string() == message) return true;
    return false;
  }
};

inline const std::string png_bytes =
    std::string("\x89PNG\r\n\x1A\n\0\0\0\rIHDR", 16) + std::string(100, 'x');
inline const std::string jpeg_bytes =
    std::string("\xFF\xD8\xFF\xE0\0\x10JFIF\0", 11) + std::string(100, 'y');

}  // namespace qr::testing
