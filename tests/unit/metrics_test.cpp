// The custom metrics, read back from the log as CloudWatch reads them: one Embedded Metric Format
// line per data point (namespace QrUpload, dimension Service = the function's name). The spec's
// four (session creation rate, upload completion rate, WebSocket connection failures, average
// session duration) and the ServerErrors count the 5xx alarms of deploy/template.yaml divide by
// the function's invocations.
#include <stdexcept>

#include "router_fixture.hpp"

namespace qr::testing {
namespace {

class Metrics : public RouterTest {
 protected:
  void SetUp() override { log.set_service("qr-upload-test-fn"); }

  // The data points of `name`, each checked to be a well-formed EMF line for it.
  std::vector<json::object> points(std::string_view name) const {
    std::vector<json::object> out;
    for (const auto& line : log_lines) {
      const auto* aws = line.if_contains("_aws");
      if (!aws) continue;
      const auto& directive = aws->at("CloudWatchMetrics").as_array().at(0).as_object();
      const auto& metric = directive.at("Metrics").as_array().at(0).as_object();
      if (metric.at("Name").as_string() != name) continue;
      EXPECT_TRUE(aws->at("Timestamp").is_int64()) << json::serialize(line);
      EXPECT_EQ(directive.at("Namespace").as_string(), "QrUpload");
      EXPECT_EQ(directive.at("Dimensions"), (json::array{json::array{"Service"}}));
      EXPECT_EQ(line.at("Service").as_string(), "qr-upload-test-fn") << "the dimension's value";
      EXPECT_TRUE(line.contains(name)) << "the value sits under the metric's name";
      out.push_back(line);
    }
    return out;
  }
  // The values of `name`'s data points, checking their unit.
  std::vector<double> values(std::string_view name, std::string_view unit = "Count") const {
    std::vector<double> out;
    for (const auto& line : points(name)) {
      const auto& directive = line.at("_aws").at("CloudWatchMetrics").as_array().at(0);
      EXPECT_EQ(directive.at("Metrics").as_array().at(0).at("Unit").as_string(), unit) << name;
      out.push_back(line.at(name).to_number<double>());
    }
    return out;
  }
  std::string single_photo_key(const std::string& id) {
    call_ws(ws_event("$connect", "desk-" + id, {{"sessionId", id}}));
    return std::string(request_upload(id).at("uploadKey").as_string());
  }
};

using Counts = std::vector<double>;

TEST_F(Metrics, SessionsCreatedCountsEverySessionAndNoFailedOne) {
  create();
  create();
  sessions.faults.push(ErrorCode::unavailable);
  EXPECT_EQ(status(call_http(http_event("POST", "/sessions"))), 500);
  EXPECT_EQ(values("SessionsCreated"), (Counts{1, 1}));
}

TEST_F(Metrics, UploadsCompletedCountsEachAcceptedPhotoOnce) {
  auto [id, token] = create();
  const std::string key = single_photo_key(id);
  objects.objects[key] = {png_bytes, "image/png"};
  ASSERT_EQ(status(call_ws(s3_event({key}))), 200);
  ASSERT_EQ(status(call_ws(s3_event({key}))), 200);  // a duplicate delivery
  auto [other, other_token] = create();
  const std::string refused = single_photo_key(other);
  objects.objects[refused] = {"not an image", "image/png"};
  ASSERT_EQ(body(call_ws(s3_event({refused}))).at("rejected").as_int64(), 1);
  EXPECT_EQ(values("UploadsCompleted"), (Counts{1}));
  EXPECT_EQ(values("UploadsRejected"), (Counts{1}));
}

TEST_F(Metrics, WebSocketConnectFailuresCountsEveryRefusedConnect) {
  auto [id, token] = create();
  ASSERT_EQ(status(call_ws(ws_event("$connect", "desk", {{"sessionId", id}, {"token", token}}))),
            200);
  ASSERT_EQ(status(call_ws(ws_event("$connect", "anon", {{"sessionId", id}}))), 200)
      << "accepted, though not bound: not a failure";
  EXPECT_TRUE(values("WebSocketConnectFailures").empty());

  const std::vector<std::pair<json::object, int>> refusals{
      {{}, 400},                                                       // no sessionId
      {{{"sessionId", "not-a-uuid"}}, 404},                            // malformed
      {{{"sessionId", "0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b"}}, 404},  // unknown
      {{{"sessionId", id}, {"token", token + "x"}}, 403},              // wrong token
  };
  for (const auto& [query, expected] : refusals)
    EXPECT_EQ(status(call_ws(ws_event("$connect", "c", query))), expected);
  sessions.faults.push(ErrorCode::unavailable);
  EXPECT_EQ(status(call_ws(ws_event("$connect", "c", {{"sessionId", id}}))), 500);
  clock.advance(std::chrono::seconds(1801));
  EXPECT_EQ(status(call_ws(ws_event("$connect", "c", {{"sessionId", id}, {"token", token}}))), 400);
  EXPECT_EQ(values("WebSocketConnectFailures"), Counts(refusals.size() + 2, 1));
  // $disconnect always answers 200 and is never a connection failure.
  call_ws(ws_event("$disconnect", "desk"));
  EXPECT_EQ(values("WebSocketConnectFailures").size(), refusals.size() + 2);
}

TEST_F(Metrics, SessionDurationSecondsWhenTheLastPhotoArrivesOrTheDesktopEndsIt) {
  auto [id, token] = create();
  const std::string key = single_photo_key(id);
  objects.objects[key] = {png_bytes, "image/png"};
  clock.advance(std::chrono::seconds(42));
  ASSERT_EQ(status(call_ws(s3_event({key}))), 200);

  auto r = call_http(http_event("POST", "/sessions", {}, R"({"maxUploads": 5})"));
  const std::string multi(body(r).at("sessionId").as_string());
  const std::string multi_token(body(r).at("desktopToken").as_string());
  clock.advance(std::chrono::seconds(90));
  json::object headers{{"authorization", "Bearer " + multi_token}};
  ASSERT_EQ(status(call_http(
                http_event("POST", "/sessions/" + multi + "/complete", {}, std::nullopt, headers))),
            200);
  EXPECT_EQ(values("SessionDurationSeconds", "Seconds"), (Counts{42, 90}));
}

TEST_F(Metrics, ServerErrorsCountsEveryFiveHundredOfBothRoutersAndNothingElse) {
  auto [id, token] = create();
  EXPECT_EQ(status(call_http(http_event("GET", "/sessions/" + id))), 200);
  EXPECT_EQ(status(call_http(http_event("GET", "/nowhere"))), 404);
  EXPECT_EQ(status(call_http(http_event("GET", "/upload-url"))), 400);
  EXPECT_TRUE(values("ServerErrors").empty()) << "4xx answers are not server errors";

  sessions.faults.push(ErrorCode::unavailable);
  EXPECT_EQ(status(call_http(http_event("POST", "/sessions"))), 500);  // the HTTP router
  EXPECT_EQ(values("ServerErrors"), (Counts{1}));

  const std::string key = single_photo_key(id);
  objects.objects[key] = {png_bytes, "image/png"};
  objects.inspect_faults.push(ErrorCode::throttled);
  EXPECT_EQ(status(call_ws(s3_event({key}))), 500);  // the event router, an S3 event
  sessions.faults.push(ErrorCode::unavailable);
  EXPECT_EQ(status(call_ws(ws_event("$connect", "c", {{"sessionId", id}}))), 500);  // $connect
  EXPECT_EQ(values("ServerErrors"), (Counts{1, 1, 1}));

  ThrowingSessionStore throwing;
  handlers::Context broken{throwing, objects, notifier, clock, random, log, settings};
  EXPECT_EQ(
      status(functions::http_api_handler(http_event("POST", "/sessions"), broken).as_object()),
      500);
  EXPECT_EQ(
      status(functions::websocket_event_handler(ws_event("$disconnect", "c"), broken).as_object()),
      500);
  EXPECT_EQ(values("ServerErrors"), (Counts{1, 1, 1, 1, 1})) << "the catch-all's 500s count too";
  EXPECT_EQ(status(call_ws(s3_event({key}))), 200);
  EXPECT_EQ(values("ServerErrors").size(), 5u);
}

}  // namespace
}  // namespace qr::testing
