// CPU cost of SigV4 (target: under 10 us per signed request and per presigned URL), and the
// price of a new connection per DynamoDB call, measured against dynalite on loopback.

#include <benchmark/benchmark.h>

#include <memory>

#include "aws/dynamodb_session_store.hpp"
#include "aws/s3_object_store.hpp"
#include "aws/sigv4.hpp"
#include "aws_test_support.hpp"

namespace {

using namespace std::chrono_literals;

const qr::aws::Credentials credentials{"AKIAEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                       std::string(600, 'T')};  // Lambda tokens are long

class FixedClock final : public qr::Clock {
 public:
  std::chrono::system_clock::time_point now() override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1'704'164'645));
  }
};

void BM_SignDynamoDbRequest(benchmark::State& state) {
  const qr::aws::Signer signer(credentials, "eu-west-1", "dynamodb");
  FixedClock clock;
  const std::string body =
      R"({"TableName":"Sessions","Key":{"sessionId":{"S":"0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b"}},"ConsistentRead":true})";
  for (auto _ : state) {
    // What DynamoDbClient does per call: hash the body, sign the headers.
    qr::aws::SignableRequest req{"POST",
                                 "/",
                                 {},
                                 {{"host", "dynamodb.eu-west-1.amazonaws.com"},
                                  {"content-type", "application/x-amz-json-1.0"},
                                  {"x-amz-target", "DynamoDB_20120810.GetItem"}}};
    auto sig = signer.sign(req, qr::crypto::sha256_hex(body), clock.now());
    benchmark::DoNotOptimize(sig);
  }
}
BENCHMARK(BM_SignDynamoDbRequest);

void BM_PresignS3Put(benchmark::State& state) {
  FixedClock clock;
  qr::aws::S3ObjectStore store(
      credentials, "eu-west-1",
      qr::aws::s3_addressing({true, "s3.eu-west-1.amazonaws.com", 443, ""}, "upload-bucket", false),
      nullptr, {}, clock);
  for (auto _ : state) {
    auto put = store.presign_put(
        "session-uploads/0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b/image-1700000000000.jpg",
        "image/jpeg", 5'000'000, 300s);
    benchmark::DoNotOptimize(put);
  }
}
BENCHMARK(BM_PresignS3Put);

void BM_PresignS3PutWithKeyDerivation(benchmark::State& state) {
  // Worst case: a fresh signer each time, so the four-HMAC key derivation is paid every call.
  FixedClock clock;
  for (auto _ : state) {
    qr::aws::Signer signer(credentials, "eu-west-1", "s3");
    qr::aws::SignableRequest req{
        "PUT",
        "/session-uploads/x/image-1.jpg",
        {},
        {{"host", "upload-bucket.s3.eu-west-1.amazonaws.com"}, {"content-type", "image/jpeg"}}};
    auto q = signer.presign(req, qr::aws::unsigned_payload, 300s, clock.now());
    benchmark::DoNotOptimize(q);
  }
}
BENCHMARK(BM_PresignS3PutWithKeyDerivation);

void BM_VerifyPresignedUrl(benchmark::State& state) {
  FixedClock clock;
  const qr::aws::Signer signer({"local", "secret", ""}, "us-east-1", "s3");
  qr::aws::SignableRequest req{"PUT",
                               "/objects/session-uploads/x/image-1.jpg",
                               {},
                               {{"host", "192.168.1.20:8080"}, {"content-type", "image/jpeg"}}};
  auto q = signer.presign(req, qr::aws::unsigned_payload, 300s, clock.now());
  req.query = qr::aws::parse_query(q.query_string);
  for (auto _ : state) {
    auto ok = signer.verify_presigned(req, qr::aws::unsigned_payload, clock.now());
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_VerifyPresignedUrl);

// ---- DynamoDB round trips against dynalite ----

qr::aws::testing::PeerProcess* dynalite() {
  static std::unique_ptr<qr::aws::testing::PeerProcess> peer = [] {
    try {
      return qr::aws::testing::start_node_peer("dynalite.js");
    } catch (const std::exception&) {
      return std::unique_ptr<qr::aws::testing::PeerProcess>{};
    }
  }();
  return peer.get();
}

void dynamodb_get_item(benchmark::State& state, bool keep_alive) {
  auto* peer = dynalite();
  if (!peer) {
    state.SkipWithError("dynalite did not start (npm ci --prefix tests/aws)");
    return;
  }
  static qr::SystemClock clock;
  const qr::aws::Endpoint ep{false, "127.0.0.1", peer->port(), ""};
  qr::aws::HttpClientOptions options;
  options.keep_alive = keep_alive;
  auto client = std::make_shared<qr::aws::DynamoDbClient>(credentials, "us-east-1", ep,
                                                          qr::aws::make_http_client(ep, options),
                                                          qr::aws::default_retry_policy(), clock);
  const std::string table = keep_alive ? "bench-keepalive" : "bench-new";
  qr::aws::testing::create_sessions_table(*client, table);
  qr::aws::DynamoDbSessionStore store(client, table);
  qr::Session s;
  s.session_id = "0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b";
  s.created_at = 1;
  s.expires_at = 2;
  (void)store.save(s);
  for (auto _ : state) {
    auto got = store.get(s.session_id);
    if (!got || !*got) {
      state.SkipWithError("GetItem failed");
      return;
    }
  }
}

void BM_DynamoDbGetItemKeptAlive(benchmark::State& state) {
  dynamodb_get_item(state, true);
}
void BM_DynamoDbGetItemNewConnection(benchmark::State& state) {
  dynamodb_get_item(state, false);
}
BENCHMARK(BM_DynamoDbGetItemKeptAlive)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_DynamoDbGetItemNewConnection)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
