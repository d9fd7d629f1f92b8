// CPU time per event through each router, every port faked (target: under 20 us per event).
#include <benchmark/benchmark.h>
#include <boost/json.hpp>

#include "functions/http_api_handler.hpp"
#include "functions/websocket_event_handler.hpp"
#include "support/fakes.hpp"

namespace {

namespace json = boost::json;
using namespace qr;
using namespace qr::testing;

struct Bed {
  FakeSessionStore sessions;
  FakeObjectStore objects;
  FakeNotifier notifier;
  FakeClock clock;
  CountingRandom random;
  Logger log{[](std::string_view) {}};
  handlers::Settings settings;
  handlers::Context ctx{sessions, objects, notifier, clock, random, log, settings};
};

// A realistic API Gateway v2 event (headers and context as AWS sends them), as text.
std::string http_event_text(std::string method, std::string path, std::string query_json) {
  return R"j({"version":"2.0","routeKey":"$default","rawPath":")j" + path +
         R"j(","rawQueryString":"","headers":{"accept":"*/*","content-length":"0","host":"abc.execute-api.us-east-1.amazonaws.com","user-agent":"Mozilla/5.0 iPhone","x-amzn-trace-id":"Root=1-5e9f0c65-1de4d666d4dd26aced652b6c","x-forwarded-for":"1.2.3.4","x-forwarded-port":"443","x-forwarded-proto":"https"},"queryStringParameters":)j" +
         query_json +
         R"j(,"requestContext":{"accountId":"123456789012","apiId":"abc","domainName":"abc.execute-api.us-east-1.amazonaws.com","http":{"method":")j" +
         method + R"j(","path":")j" + path +
         R"j(","protocol":"HTTP/1.1","sourceIp":"1.2.3.4","userAgent":"Mozilla/5.0"},"requestId":"LV7fzho-PHcEJPw=","routeKey":"$default","stage":"$default","time":"21/Apr/2020:15:08:21 +0000","timeEpoch":1587481701067},"isBase64Encoded":false})j";
}

std::string create(Bed& bed) {
  auto r =
      functions::http_api_handler(json::parse(http_event_text("POST", "/sessions", "{}")), bed.ctx);
  return std::string(json::parse(r.at("body").as_string()).at("sessionId").as_string());
}

// Baseline: only parse the event text and serialise a response-sized document, the part of each
// iteration below that no handler can avoid. The routers' cost is measured against it.
void BM_BaselineParseAndSerialize(benchmark::State& state) {
  const std::string text = http_event_text("POST", "/sessions", "{}");
  const json::object response{{"statusCode", 200}, {"body", std::string(140, 'x')}};
  for (auto _ : state) {
    benchmark::DoNotOptimize(json::parse(text));
    benchmark::DoNotOptimize(json::serialize(response));
  }
}
BENCHMARK(BM_BaselineParseAndSerialize);

// Each iteration parses the event text, routes, handles and serialises, as the bootstrap does.
void BM_HttpCreateSession(benchmark::State& state) {
  Bed bed;
  const std::string text = http_event_text("POST", "/sessions", "{}");
  for (auto _ : state) {
    auto r = functions::http_api_handler(json::parse(text), bed.ctx);
    benchmark::DoNotOptimize(json::serialize(r));
  }
}
BENCHMARK(BM_HttpCreateSession);

void BM_HttpUploadUrl(benchmark::State& state) {
  Bed bed;
  const std::string id = create(bed);
  const std::string text = http_event_text(
      "GET", "/upload-url", R"j({"sessionId":")j" + id + R"j(","contentType":"image/jpeg"})j");
  for (auto _ : state) {
    auto r = functions::http_api_handler(json::parse(text), bed.ctx);
    benchmark::DoNotOptimize(json::serialize(r));
  }
}
BENCHMARK(BM_HttpUploadUrl);

void BM_WsConnect(benchmark::State& state) {
  Bed bed;
  const std::string id = create(bed);
  const std::string text =
      R"j({"headers":{"Host":"abc.execute-api.us-east-1.amazonaws.com","Sec-WebSocket-Key":"x","Sec-WebSocket-Version":"13"},"queryStringParameters":{"sessionId":")j" +
      id +
      R"j("},"requestContext":{"routeKey":"$connect","eventType":"CONNECT","extendedRequestId":"x","requestTime":"09/Feb/2024:18:11:43 +0000","messageDirection":"IN","stage":"prod","connectedAt":1707502303419,"requestTimeEpoch":1707502303420,"requestId":"TWegAcC4EowCHnA=","domainName":"abc.execute-api.us-east-1.amazonaws.com","connectionId":"TWegAcC4EowCHnA=","apiId":"abc"},"isBase64Encoded":false})j";
  for (auto _ : state) {
    auto r = functions::websocket_event_handler(json::parse(text), bed.ctx);
    benchmark::DoNotOptimize(json::serialize(r));
  }
}
BENCHMARK(BM_WsConnect);

void BM_WsDisconnect(benchmark::State& state) {
  Bed bed;
  const std::string text =
      R"j({"requestContext":{"routeKey":"$disconnect","disconnectStatusCode":1001,"eventType":"DISCONNECT","stage":"prod","requestId":"R1koeHsUtjMFbRw=","connectionId":"R1kmxc2VNjMCFIA=","apiId":"abc"},"isBase64Encoded":false})j";
  for (auto _ : state) {
    auto r = functions::websocket_event_handler(json::parse(text), bed.ctx);
    benchmark::DoNotOptimize(json::serialize(r));
  }
}
BENCHMARK(BM_WsDisconnect);

// The full completion path: inspect, conditional update, presign GET, notify. The session is
// reset each iteration (outside the timing) so every event really completes it.
void BM_S3Completion(benchmark::State& state) {
  Bed bed;
  const std::string id = create(bed);
  const std::string key = "session-uploads/" + id + "/image-1.png";
  Session s = *bed.sessions.peek(id);
  s.status = SessionStatus::upload_requested;
  s.upload_key = key;
  s.content_type = "image/png";
  s.ws_connection_id = "conn";
  s.ws_token_bound = true;
  bed.objects.objects[key] = {std::string("\x89PNG\r\n\x1A\n", 8) + std::string(56, 'x'),
                              "image/png"};
  const std::string text =
      R"j({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2024-01-01T00:00:00.000Z","eventName":"ObjectCreated:Put","userIdentity":{"principalId":"EXAMPLE"},"requestParameters":{"sourceIPAddress":"127.0.0.1"},"responseElements":{"x-amz-request-id":"C3D13FE58DE4C810","x-amz-id-2":"FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},"s3":{"s3SchemaVersion":"1.0","configurationId":"uploads","bucket":{"name":"bucket","ownerIdentity":{"principalId":"EXAMPLE"},"arn":"arn:aws:s3:::bucket"},"object":{"key":")j" +
      key +
      R"j(","size":64,"eTag":"d41d8cd98f00b204e9800998ecf8427e","sequencer":"0A1B2C3D4E5F678901"}}}]})j";
  for (auto _ : state) {
    state.PauseTiming();
    bed.sessions.put(s);
    bed.notifier.sent.clear();
    state.ResumeTiming();
    auto r = functions::websocket_event_handler(json::parse(text), bed.ctx);
    benchmark::DoNotOptimize(json::serialize(r));
  }
}
BENCHMARK(BM_S3Completion);

}  // namespace
