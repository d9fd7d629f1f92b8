// AWS's real event samples decode into the typed requests.
#include "functions/event.hpp"
#include "router_fixture.hpp"

namespace qr::testing {
namespace {

TEST(EventSamples, HttpApiV2) {
  auto r = functions::parse_http_event(load_sample("apigw-v2-request-iam.json"));
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->path, "/my/path");
  EXPECT_TRUE(r->body.has_value());
  EXPECT_FALSE(r->query.empty());
  EXPECT_TRUE(r->header("accept") || !r->headers.empty());
}

TEST(EventSamples, WebSocketConnectAndDisconnect) {
  auto c = functions::parse_websocket_event(load_sample("apigw-websocket-request.json"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->route_key, "$connect");
  EXPECT_EQ(c->connection_id, "TWegAcC4EowCHnA=");
  auto d = functions::parse_websocket_event(load_sample("apigw-websocket-request-disconnect.json"));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->route_key, "$disconnect");
  EXPECT_EQ(d->connection_id, "R1kmxc2VNjMCFIA=");
}

TEST(EventSamples, S3Records) {
  for (const char* name : {"s3-event.json", "s3-event-with-decoded.json"}) {
    auto event = load_sample(name);
    ASSERT_TRUE(functions::is_s3_event(event)) << name;
    auto records = functions::parse_s3_records(event);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].event_name, "ObjectCreated:Put");
    EXPECT_EQ(records[0].bucket, "sourcebucket");
    EXPECT_EQ(records[0].raw_key, "Happy%20Face.jpg");
    EXPECT_EQ(records[0].size, 1024u);
  }
}

TEST(EventSamples, S3RecordsOfWhatIsNotAnS3EventAreNoneRatherThanAnException) {
  for (const char* text : {"null", "[]", "{}", R"({"Records":{}})", R"({"Records":"x"})"})
    EXPECT_TRUE(functions::parse_s3_records(boost::json::parse(text)).empty()) << text;
}

TEST(EventSamples, Base64) {
  EXPECT_EQ(functions::base64_decode("aGVsbG8="), "hello");
  EXPECT_EQ(functions::base64_decode("aGVsbG8"), "hello");
  EXPECT_FALSE(functions::base64_decode("a"));
  EXPECT_FALSE(functions::base64_decode("a$bc"));
}

}  // namespace
}  // namespace qr::testing
