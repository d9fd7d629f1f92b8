// The bootstraps' handler around a router: the deadline reaches the AWS adapters, a response
// document is passed through, and a failed S3 notification comes back as an error value (so
// Lambda delivers it again) instead of a thrown exception.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "functions/websocket_event_handler.hpp"
#include "lambda/bootstrap.hpp"
#include "support/fakes.hpp"

namespace qr::lambda {
namespace {

namespace json = boost::json;

json::value s3_event(std::string key) {
  return json::object{{"Records", json::array{json::object{
                                      {"eventSource", "aws:s3"},
                                      {"eventName", "ObjectCreated:Put"},
                                      {"s3",
                                       {{"bucket", {{"name", "uploads"}}},
                                        {"object", {{"key", std::move(key)}, {"size", 1234}}}}}}}}};
}

json::value connect_event() {
  return json::object{
      {"requestContext", {{"routeKey", "$connect"}, {"connectionId", "c1="}, {"requestId", "r1"}}},
      {"queryStringParameters", {{"sessionId", "0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b"}}}};
}

struct RouterHandlerTest : ::testing::Test {
  testing::FakeSessionStore sessions;
  testing::FakeObjectStore objects;
  testing::FakeNotifier notifier;
  testing::FakeClock clock;
  testing::CountingRandom random;
  std::vector<std::string> lines;
  Logger log{[this](std::string_view line) { lines.emplace_back(line); }};
  handlers::Settings settings;
  handlers::Context context{sessions, objects, notifier, clock, random, log, settings};
  std::vector<std::int64_t> deadlines;

  Handler handler() {
    return router_handler(&functions::websocket_event_handler, context,
                          [this](std::int64_t ms) { deadlines.push_back(ms); });
  }
  static Invocation invocation(std::int64_t deadline_ms) {
    Invocation inv;
    inv.request_id = "req-1";
    inv.deadline_ms = deadline_ms;
    return inv;
  }
};

const std::string key = "session-uploads/0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b/image-1.jpg";

TEST_F(RouterHandlerTest, StorageFailureOfAnS3EventIsAnErrorValueAskingForRedelivery) {
  sessions.faults.push(ErrorCode::unavailable);
  auto result = handler()(s3_event(key), invocation(1'700'000'030'000));
  ASSERT_FALSE(result.has_value()) << *result;
  EXPECT_EQ(result.error().type, "RedeliverEvent");
  EXPECT_NE(result.error().message.find("redelivered"), std::string::npos);
  EXPECT_EQ(deadlines, (std::vector<std::int64_t>{1'700'000'030'000}));
}

TEST_F(RouterHandlerTest, AnsweredS3EventIsTheRoutersDocument) {
  // No such session: the record is ignored, and the event succeeds.
  auto result = handler()(s3_event(key), invocation(0));
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(result->at("statusCode").to_number<int>(), 200);
  EXPECT_EQ(deadlines, (std::vector<std::int64_t>{0}));
}

TEST_F(RouterHandlerTest, A500ToAWebSocketRouteIsAnAnswerNotARedelivery) {
  sessions.faults.push(ErrorCode::unavailable);
  auto result = handler()(connect_event(), invocation(0));
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(result->at("statusCode").to_number<int>(), 500);
}

}  // namespace
}  // namespace qr::lambda
