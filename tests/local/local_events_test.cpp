// The local server's socket-free edge: what a request becomes for the routers, and how their
// answers are read back. The events are fed to the real routers too, so a shape they would not
// accept fails here, not only in the HTTP tests.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "functions/event.hpp"
#include "local/local_events.hpp"

namespace qr::local {
namespace {

namespace json = boost::json;

TEST(LocalEvents, TargetSplitsIntoPathAndQuery) {
  EXPECT_EQ(target_path("/upload-url?sessionId=a&b=c"), "/upload-url");
  EXPECT_EQ(target_query("/upload-url?sessionId=a&b=c"), "sessionId=a&b=c");
  EXPECT_EQ(target_path("/sessions"), "/sessions");
  EXPECT_EQ(target_query("/sessions"), "");
  EXPECT_EQ(target_query("/x?"), "");
}

TEST(LocalEvents, HttpRequestBecomesAnApiGatewayV2EventAsAwsBuildsIt) {
  const LocalRequest request{
      "GET",
      "/upload-url?sessionId=abc&contentType=image%2Fjpeg&x=1&x=2",
      {{"Host", "192.168.1.5:8080"}, {"X-Desktop-Token", "t"}, {"Accept", "a"}, {"accept", "b"}},
      "",
      "req-1",
      "192.168.1.20"};
  const json::object event = http_api_event(request);
  EXPECT_EQ(event.at("version"), "2.0");
  EXPECT_EQ(event.at("rawPath"), "/upload-url");
  EXPECT_EQ(event.at("rawQueryString"), "sessionId=abc&contentType=image%2Fjpeg&x=1&x=2");
  const auto& query = event.at("queryStringParameters").as_object();
  EXPECT_EQ(query.at("contentType"), "image/jpeg");  // decoded
  EXPECT_EQ(query.at("x"), "1,2");                   // repeats joined, as API Gateway does
  const auto& headers = event.at("headers").as_object();
  EXPECT_EQ(headers.at("host"), "192.168.1.5:8080");  // names lower-cased
  EXPECT_EQ(headers.at("accept"), "a,b");
  const auto& http = event.at("requestContext").at("http").as_object();
  EXPECT_EQ(http.at("method"), "GET");
  EXPECT_EQ(http.at("sourceIp"), "192.168.1.20");
  EXPECT_EQ(event.at("requestContext").at("requestId"), "req-1");
  EXPECT_FALSE(event.contains("body"));

  // The routers' decoder reads it back as the same request.
  const auto decoded = functions::parse_http_event(event);
  ASSERT_TRUE(decoded) << decoded.error().detail;
  EXPECT_EQ(decoded->path, "/upload-url");
  EXPECT_EQ(decoded->query_param("sessionId"), "abc");
  EXPECT_EQ(decoded->header("x-desktop-token"), "t");
  EXPECT_EQ(decoded->request_id, "req-1");
}

TEST(LocalEvents, QueryIsFormDecodedAsApiGatewayDoes) {
  const LocalRequest request{
      "GET", "/upload-url?fileName=Sommer+am+See.png&tag=a%2Bb&x=%20", {}, "", "r", "127.0.0.1"};
  const json::object event = http_api_event(request);
  const auto& query = event.at("queryStringParameters").as_object();
  EXPECT_EQ(query.at("fileName"), "Sommer am See.png");
  EXPECT_EQ(query.at("tag"), "a+b");
  EXPECT_EQ(query.at("x"), " ");
  EXPECT_EQ(event.at("rawQueryString"), "fileName=Sommer+am+See.png&tag=a%2Bb&x=%20")
      << "the raw query stays as sent";
  const auto connect = connect_event("c", "r", "/ws?sessionId=a&token=t+u");
  EXPECT_EQ(connect.at("queryStringParameters").at("token"), "t u");
}

TEST(LocalEvents, BodyIsCarriedVerbatimAndOmittedWhenEmpty) {
  const LocalRequest post{"POST", "/sessions", {}, R"({"maxUploads":3})", "r", "127.0.0.1"};
  const auto event = http_api_event(post);
  EXPECT_EQ(event.at("body"), R"({"maxUploads":3})");
  EXPECT_FALSE(event.contains("queryStringParameters"));
  const auto decoded = functions::parse_http_event(event);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->body, R"({"maxUploads":3})");
}

TEST(LocalEvents, WebSocketOpenAndCloseBecomeConnectAndDisconnect) {
  const auto connect = connect_event("c1", "r1", "/ws?sessionId=abc&token=t%2Bu");
  const auto ws = functions::parse_websocket_event(connect);
  ASSERT_TRUE(ws);
  EXPECT_EQ(ws->route_key, "$connect");
  EXPECT_EQ(ws->connection_id, "c1");
  EXPECT_EQ(ws->query_param("sessionId"), "abc");
  EXPECT_EQ(ws->query_param("token"), "t+u");
  EXPECT_FALSE(connect_event("c1", "r1", "/ws").contains("queryStringParameters"));

  const auto disconnect = functions::parse_websocket_event(disconnect_event("c1", "r2"));
  ASSERT_TRUE(disconnect);
  EXPECT_EQ(disconnect->route_key, "$disconnect");
  EXPECT_EQ(disconnect->request_id, "r2");
}

TEST(LocalEvents, StoredObjectBecomesAnS3RecordWithTheKeyFormEncoded) {
  const auto event = object_created_event("session-uploads/abc/image 1+x.jpg", 1234);
  ASSERT_TRUE(functions::is_s3_event(event));
  const auto records = functions::parse_s3_records(event);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].event_name, "ObjectCreated:Put");
  EXPECT_EQ(records[0].size, 1234u);
  // S3 form-encodes keys; the decoder undoes it, so the raw key must not be the plain one.
  EXPECT_NE(records[0].raw_key, "session-uploads/abc/image 1+x.jpg");
  EXPECT_EQ(records[0].raw_key.find(' '), std::string::npos);
}

TEST(LocalEvents, SignableRequestHasLowercaseHeaderNamesAndTheDecodedQuery) {
  const auto req = signable_request("PUT", "/objects/session-uploads/a/b.jpg?X-Amz-Expires=300",
                                    {{"Host", "h:1"}, {"Content-Type", "image/jpeg"}});
  EXPECT_EQ(req.method, "PUT");
  EXPECT_EQ(req.path, "/objects/session-uploads/a/b.jpg");
  ASSERT_EQ(req.query.size(), 1u);
  EXPECT_EQ(req.query[0].first, "X-Amz-Expires");
  ASSERT_EQ(req.headers.size(), 2u);
  EXPECT_EQ(req.headers[0].first, "host");
  EXPECT_EQ(req.headers[1].first, "content-type");
}

TEST(LocalEvents, RouterAnswersAreReadWithoutThrowingWhateverTheyHold) {
  const auto ok = read_router_answer(json::parse(
      R"({"statusCode":201,"headers":{"Content-Type":"application/json","X":1},"body":"{}"})"));
  EXPECT_EQ(ok.status, 201);
  ASSERT_EQ(ok.headers.size(), 1u);  // a non-string header value is dropped
  EXPECT_EQ(ok.body, "{}");
  for (const char* bad : {R"([])", R"("x")", R"({})", R"({"statusCode":"200"})",
                          R"({"statusCode":99})", R"({"statusCode":700})", R"(null)"}) {
    const auto answer = read_router_answer(json::parse(bad));
    EXPECT_EQ(answer.status, 500) << bad;
    EXPECT_TRUE(answer.body.empty()) << bad;
  }
  const auto no_body = read_router_answer(json::parse(R"({"statusCode":204,"body":5})"));
  EXPECT_EQ(no_body.status, 204);
  EXPECT_EQ(no_body.body, "");
}

TEST(LocalEvents, FirstRejectionReadsTheCompletionAnswer) {
  RouterAnswer answer{200, {}, R"({"rejections":[{"key":"k","reason":"Not an image"}]})"};
  EXPECT_EQ(first_rejection(answer), (UploadRefusal{"Not an image", 422}));
  answer.body = R"({"rejections":[{"key":"k","reason":"Full","status":409}]})";
  EXPECT_EQ(first_rejection(answer), (UploadRefusal{"Full", 409}));
  answer.body = R"({"rejections":[{"key":"k","reason":"Odd","status":200}]})";
  EXPECT_EQ(first_rejection(answer), (UploadRefusal{"Odd", 422})) << "only a 4xx is taken";
  answer.body = R"({"rejections":[]})";
  EXPECT_EQ(first_rejection(answer), std::nullopt);
  answer.body = R"({"processed":1})";
  EXPECT_EQ(first_rejection(answer), std::nullopt);
  answer.body = "not json";
  EXPECT_EQ(first_rejection(answer), std::nullopt);
  answer.body = R"({"rejections":[{"reason":5}]})";
  EXPECT_EQ(first_rejection(answer), (UploadRefusal{"Upload rejected", 422}));
}

TEST(LocalEvents, FirstCompletionReadsTheAcceptedPhoto) {
  RouterAnswer answer{
      200,
      {},
      R"({"completions":[{"key":"k","sessionId":"s","fileName":"IMG_1.JPG","index":3,"uploadsRemaining":7}]})"};
  const auto accepted = first_completion(answer);
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted->key, "k");
  EXPECT_EQ(accepted->session_id, "s");
  EXPECT_EQ(accepted->file_name, "IMG_1.JPG");
  EXPECT_EQ(accepted->index, 3);
  EXPECT_EQ(accepted->uploads_remaining, 7);
  for (const char* body :
       {R"({"completions":[]})", R"({"completions":[{"key":"k"}]})", "[]", "x"}) {
    answer.body = body;
    EXPECT_FALSE(first_completion(answer)) << body;
  }
}

}  // namespace
}  // namespace qr::local
