// The HTTP API router on whole API Gateway v2 events, every port faked.
#include "core/validators.hpp"
#include "handlers/handlers.hpp"
#include "router_fixture.hpp"

namespace qr::testing {
namespace {

using HttpApiHandler = RouterTest;

TEST_F(HttpApiHandler, CreateSessionReturnsIdExpiryAndTokenAndStoresOnlyTheTokenHash) {
  auto r = call_http(http_event("POST", "/sessions"));
  ASSERT_EQ(status(r), 200);
  auto headers = r.at("headers").as_object();
  EXPECT_EQ(headers.at("Content-Type").as_string(), "application/json");
  EXPECT_EQ(headers.at("Access-Control-Allow-Origin").as_string(), "*");
  EXPECT_EQ(headers.at("Access-Control-Allow-Methods").as_string(), "GET, POST, OPTIONS");
  auto b = body(r);
  const std::string id(b.at("sessionId").as_string());
  const std::string token(b.at("desktopToken").as_string());
  EXPECT_TRUE(is_uuid(id));
  EXPECT_EQ(id[14], '4') << "UUID version 4";
  EXPECT_EQ(b.at("expiresAt").as_int64(), clock.now_seconds() + 1800);
  EXPECT_GE(token.size(), 43u) << "256 bits in base64url";
  auto stored = sessions.peek(id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->status, SessionStatus::awaiting_scan);
  EXPECT_EQ(stored->created_at, clock.now_seconds());
  EXPECT_FALSE(stored->ws_connection_id);
  EXPECT_FALSE(stored->upload_key);
  ASSERT_TRUE(stored->desktop_token_hash);
  EXPECT_NE(*stored->desktop_token_hash, token);
  EXPECT_EQ(*stored->desktop_token_hash, handlers::hash_token(token));
  EXPECT_TRUE(logged("session created"));
}

TEST_F(HttpApiHandler, CreateSessionGivesDistinctIdsAndTokens) {
  auto [a, ta] = create();
  auto [b, tb] = create();
  EXPECT_NE(a, b);
  EXPECT_NE(ta, tb);
}

TEST_F(HttpApiHandler, CreateSessionRejectsMalformedJsonBody) {
  auto r = call_http(http_event("POST", "/sessions", {}, std::string("{not json")));
  EXPECT_EQ(status(r), 400);
  EXPECT_EQ(error_of(r), "Invalid JSON body");
  EXPECT_EQ(sessions.size(), 0u);
}

TEST_F(HttpApiHandler, CreateSessionRejectsNonObjectBody) {
  auto r = call_http(http_event("POST", "/sessions", {}, std::string("[1,2]")));
  EXPECT_EQ(status(r), 400);
  EXPECT_EQ(error_of(r), "Request body must be a JSON object");
}

TEST_F(HttpApiHandler, CreateSessionAcceptsEmptyObjectAndBase64Body) {
  EXPECT_EQ(status(call_http(http_event("POST", "/sessions", {}, std::string("{}")))), 200);
  auto event = http_event("POST", "/sessions", {}, std::string("e30="));  // base64 of {}
  event.as_object()["isBase64Encoded"] = true;
  EXPECT_EQ(status(call_http(event)), 200);
  auto bad = http_event("POST", "/sessions", {}, std::string("!!!"));
  bad.as_object()["isBase64Encoded"] = true;
  EXPECT_EQ(status(call_http(bad)), 400);
}

TEST_F(HttpApiHandler, CreateSessionStorageFailureIs500WithDetailOnlyInTheLog) {
  sessions.faults.push(ErrorCode::throttled,
                       "ProvisionedThroughputExceededException: secret detail");
  auto r = call_http(http_event("POST", "/sessions"));
  EXPECT_EQ(status(r), 500);
  EXPECT_EQ(error_of(r), "Internal server error");
  EXPECT_EQ(std::string(r.at("body").as_string()).find("secret"), std::string::npos);
  bool detail_logged = false;
  for (const auto& l : log_lines)  // (metric lines, such as ServerErrors, have no level)
    if (l.contains("level") && l.at("level").as_string() == "ERROR" && l.contains("error") &&
        std::string(l.at("error").as_string()).find("secret detail") != std::string::npos)
      detail_logged = true;
  EXPECT_TRUE(detail_logged);
}

TEST_F(HttpApiHandler, UploadUrlWithoutSessionIdIs400) {
  auto r = call_http(http_event("GET", "/upload-url"));
  EXPECT_EQ(status(r), 400);
  EXPECT_EQ(error_of(r), "sessionId is required");
  auto empty = call_http(http_event("GET", "/upload-url", {{"sessionId", ""}}));
  EXPECT_EQ(status(empty), 400);
}

TEST_F(HttpApiHandler, UploadUrlWithMalformedSessionIdIs404) {
  auto r = call_http(http_event("GET", "/upload-url", {{"sessionId", "not-a-uuid"}}));
  EXPECT_EQ(status(r), 404);
  EXPECT_EQ(error_of(r), "Invalid sessionId format");
  auto traversal = call_http(http_event("GET", "/upload-url", {{"sessionId", "../../etc/passwd"}}));
  EXPECT_EQ(status(traversal), 404);
}

TEST_F(HttpApiHandler, UploadUrlForUnknownSessionIs404) {
  auto r = call_http(
      http_event("GET", "/upload-url", {{"sessionId", "0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b"}}));
  EXPECT_EQ(status(r), 404);
  EXPECT_EQ(error_of(r), "Session not found");
}

TEST_F(HttpApiHandler, UploadUrlForExpiredSessionIs400) {
  auto [id, token] = create();
  clock.advance(std::chrono::seconds(1801));
  auto r = call_http(http_event("GET", "/upload-url", {{"sessionId", id}}));
  EXPECT_EQ(status(r), 400);
  EXPECT_EQ(error_of(r), "Session expired");
}

TEST_F(HttpApiHandler, UploadUrlForCompletedSessionIs400AndLeavesItCompleted) {
  auto [id, token] = create();
  Session s = *sessions.peek(id);
  s.status = SessionStatus::completed;
  s.upload_key = "session-uploads/" + id + "/image-1";
  sessions.put(s);
  auto r = call_http(http_event("GET", "/upload-url", {{"sessionId", id}}));
  EXPECT_EQ(status(r), 400);
  EXPECT_EQ(error_of(r), "Session already completed");
  EXPECT_EQ(sessions.peek(id)->status, SessionStatus::completed);
  EXPECT_EQ(sessions.peek(id)->upload_key, s.upload_key);
}

TEST_F(HttpApiHandler, UploadUrlWithoutContentTypeSignsTheSpecsWildcard) {
  auto [id, token] = create();
  auto b = request_upload(id);
  const std::string key(b.at("uploadKey").as_string());
  const std::string prefix =
      "session-uploads/" + id + "/image-" + std::to_string(clock.now_millis()) + "-";
  EXPECT_TRUE(key.starts_with(prefix)) << key;
  EXPECT_EQ(key.size(), prefix.size() + 8) << "8 hex digits of nonce, no extension";
  EXPECT_EQ(b.at("headers").as_object().at("Content-Type").as_string(), "image/*");
  EXPECT_EQ(b.at("method").as_string(), "PUT");
  EXPECT_EQ(b.at("expiresIn").as_int64(), 300);
  EXPECT_NE(std::string(b.at("uploadUrl").as_string()).find(key), std::string::npos);
  EXPECT_NE(std::string(b.at("uploadUrl").as_string()).find("expires=300"), std::string::npos);
  auto stored = *sessions.peek(id);
  EXPECT_EQ(stored.status, SessionStatus::upload_requested);
  EXPECT_EQ(stored.upload_key, key);
  EXPECT_EQ(stored.content_type, "image/*");
}

TEST_F(HttpApiHandler, UploadUrlSignsTheRequestedTypeAndGivesTheKeyItsExtension) {
  auto [id, token] = create();
  auto b = request_upload(id, {{"contentType", "IMAGE/PNG"}});
  EXPECT_TRUE(std::string(b.at("uploadKey").as_string()).ends_with(".png"));
  EXPECT_EQ(b.at("headers").as_object().at("Content-Type").as_string(), "image/png");
  EXPECT_EQ(sessions.peek(id)->content_type, "image/png");
  for (auto [type, ext] : {std::pair{"image/jpeg", ".jpg"},
                           {"image/gif", ".gif"},
                           {"image/webp", ".webp"},
                           {"image/heic", ".heic"},
                           {"image/heif", ".heif"}}) {
    auto again = request_upload(id, {{"contentType", type}});
    EXPECT_TRUE(std::string(again.at("uploadKey").as_string()).ends_with(ext)) << type;
  }
}

TEST_F(HttpApiHandler, UploadUrlRejectsTypesOutsideTheAllowList) {
  auto [id, token] = create();
  for (const char* type : {"text/html", "image/svg+xml", "image/*", "application/octet-stream"}) {
    auto r =
        call_http(http_event("GET", "/upload-url", {{"sessionId", id}, {"contentType", type}}));
    EXPECT_EQ(status(r), 400) << type;
    EXPECT_EQ(error_of(r), "Unsupported contentType");
  }
  EXPECT_EQ(sessions.peek(id)->status, SessionStatus::awaiting_scan);
}

TEST_F(HttpApiHandler, UploadUrlChecksContentLength) {
  auto [id, token] = create();
  for (const char* bad : {"abc", "-5", "0", "12x", "99999999999999999999999"}) {
    auto r =
        call_http(http_event("GET", "/upload-url", {{"sessionId", id}, {"contentLength", bad}}));
    EXPECT_EQ(status(r), 400) << bad;
  }
  settings.max_upload_bytes = 1000;
  auto big =
      call_http(http_event("GET", "/upload-url", {{"sessionId", id}, {"contentLength", "1001"}}));
  EXPECT_EQ(status(big), 413);
  EXPECT_EQ(error_of(big), "File too large");
  auto ok = request_upload(id, {{"contentLength", "1000"}, {"contentType", "image/jpeg"}});
  EXPECT_EQ(ok.at("headers").as_object().at("Content-Length").as_string(), "1000");
}

TEST_F(HttpApiHandler, AskingAgainWhileUploadRequestedIssuesAFreshKey) {
  auto [id, token] = create();
  auto first = request_upload(id);
  clock.advance(std::chrono::milliseconds(1500));
  auto second = request_upload(id, {{"contentType", "image/jpeg"}});
  EXPECT_NE(first.at("uploadKey"), second.at("uploadKey"));
  EXPECT_EQ(sessions.peek(id)->upload_key, std::string(second.at("uploadKey").as_string()));
}

TEST_F(HttpApiHandler, UploadUrlAcceptsUppercaseSessionId) {
  auto [id, token] = create();
  std::string upper = id;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  auto r = call_http(http_event("GET", "/upload-url", {{"sessionId", upper}}));
  EXPECT_EQ(status(r), 200);
}

TEST_F(HttpApiHandler, UploadUrlStorageAndPresignFailuresAre500AndWriteNothing) {
  auto [id, token] = create();
  sessions.faults.push(ErrorCode::unavailable);
  EXPECT_EQ(status(call_http(http_event("GET", "/upload-url", {{"sessionId", id}}))), 500);
  objects.presign_faults.push(ErrorCode::internal);
  EXPECT_EQ(status(call_http(http_event("GET", "/upload-url", {{"sessionId", id}}))), 500);
  EXPECT_EQ(sessions.peek(id)->status, SessionStatus::awaiting_scan);
  EXPECT_FALSE(sessions.peek(id)->upload_key);
}

TEST_F(HttpApiHandler, UploadUrlOffersOnlyTheDeploymentsTypes) {
  settings.allowed_types = *AllowedImageTypes::parse("image/png,image/webp");
  auto [id, token] = create();
  auto jpeg = call_http(
      http_event("GET", "/upload-url", {{"sessionId", id}, {"contentType", "image/jpeg"}}));
  EXPECT_EQ(status(jpeg), 400);
  EXPECT_EQ(error_of(jpeg), "Unsupported contentType");
  EXPECT_FALSE(sessions.peek(id)->upload_key) << "nothing issued";
  auto webp = request_upload(id, {{"contentType", "image/webp"}});
  EXPECT_TRUE(std::string(webp.at("uploadKey").as_string()).ends_with(".webp"));
  // The spec's client names no type: its image/* URL is still issued (the check holds the bytes
  // to the list when they land).
  auto spec = request_upload(id);
  EXPECT_EQ(spec.at("headers").at("Content-Type").as_string(), "image/*");
}

// GET /sessions/{id} is what the desktop polls and the phone confirms its photo with: an answer
// no write depends on, read eventually consistently. Every read a conditional write depends on,
// or that must see a session just created, is strong.
TEST_F(HttpApiHandler, GetSessionReadsEventuallyEveryOtherRouteStrongly) {
  auto [id, token] = create();
  sessions.reads.clear();
  ASSERT_EQ(status(call_http(http_event("GET", "/sessions/" + id))), 200);
  EXPECT_EQ(sessions.reads, (std::vector<Consistency>{Consistency::eventual}));

  sessions.reads.clear();
  call_ws(ws_event("$connect", "desk", {{"sessionId", id}, {"token", token}}));
  const std::string key(
      request_upload(id, {{"contentType", "image/png"}}).at("uploadKey").as_string());
  objects.objects[key] = {png_bytes, "image/png"};
  ASSERT_EQ(status(call_ws(s3_event({key}))), 200);
  ASSERT_EQ(status(call_ws(s3_event({key}))), 200);
  json::object headers{{"authorization", "Bearer " + token}};
  call_http(http_event("POST", "/sessions/" + id + "/complete", {}, std::nullopt, headers));
  EXPECT_FALSE(sessions.reads.empty());
  for (const Consistency c : sessions.reads) EXPECT_EQ(c, Consistency::strong);
}

TEST_F(HttpApiHandler, GetSessionOfASessionAnEventualReadMissesIsReadAgainStrongly) {
  auto [id, token] = create();
  sessions.not_yet_replicated.insert(id);
  sessions.reads.clear();
  auto r = call_http(http_event("GET", "/sessions/" + id));
  EXPECT_EQ(status(r), 200) << "never a 404 for a session just created";
  EXPECT_EQ(body(r).at("sessionId").as_string(), id);
  EXPECT_EQ(sessions.reads, (std::vector<Consistency>{Consistency::eventual, Consistency::strong}));
  sessions.reads.clear();
  EXPECT_EQ(status(call_http(http_event("GET", "/sessions/0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b"))),
            404);
  EXPECT_EQ(sessions.reads.size(), 2u) << "a 404 is said only after a strong read";
}

// A store whose reads are one step behind: the session completed after the handler read it.
class StaleReadStore final : public SessionStore {
 public:
  StaleReadStore(FakeSessionStore& real, Session stale) : real_(real), stale_(std::move(stale)) {}
  Result<void> save(const Session& s) override { return real_.save(s); }
  Result<std::optional<Session>> get(std::string_view) override {
    return std::optional<Session>{stale_};
  }
  Result<Session> update(std::string_view id, const SessionUpdate& c,
                         const UpdateCondition& k) override {
    return real_.update(id, c, k);
  }
  Result<std::optional<Session>> find_by_connection(std::string_view c) override {
    return real_.find_by_connection(c);
  }
  Result<std::optional<Session>> find_by_short_code(std::string_view c, std::int64_t now) override {
    return real_.find_by_short_code(c, now);
  }

 private:
  FakeSessionStore& real_;
  Session stale_;
};

TEST_F(HttpApiHandler, UploadUrlLosingARaceToCompletionIs400AndKeepsTheCompletedRecord) {
  auto [id, token] = create();
  Session stale = *sessions.peek(id);
  Session done = stale;
  done.status = SessionStatus::completed;
  done.upload_key = "session-uploads/" + id + "/image-9";
  sessions.put(done);
  StaleReadStore racing(sessions, stale);
  handlers::Context racing_ctx{racing, objects, notifier, clock, random, log, settings};
  auto r =
      functions::http_api_handler(http_event("GET", "/upload-url", {{"sessionId", id}}), racing_ctx)
          .as_object();
  EXPECT_EQ(status(r), 400);
  EXPECT_EQ(error_of(r), "Session already completed");
  EXPECT_EQ(*sessions.peek(id), done);
}

TEST_F(HttpApiHandler, GetSessionReportsPublicState) {
  auto [id, token] = create();
  auto r = call_http(http_event("GET", "/sessions/" + id));
  ASSERT_EQ(status(r), 200);
  auto b = body(r);
  EXPECT_EQ(b.at("status").as_string(), "AWAITING_SCAN");
  EXPECT_EQ(b.at("expired").as_bool(), false);
  EXPECT_FALSE(b.contains("downloadUrl"));
  EXPECT_FALSE(b.contains("desktopTokenHash"));
  clock.advance(std::chrono::seconds(1801));
  EXPECT_EQ(body(call_http(http_event("GET", "/sessions/" + id))).at("expired").as_bool(), true);
}

TEST_F(HttpApiHandler, GetSessionGivesTheDesktopAnImageLinkOnlyWithItsToken) {
  auto [id, token] = create();
  Session s = *sessions.peek(id);
  s.status = SessionStatus::completed;
  s.upload_key = "session-uploads/" + id + "/image-1.png";
  s.content_type = "image/png";
  s.upload_size = 116;
  s.completed_at = clock.now_seconds();
  sessions.put(s);
  auto anon = body(call_http(http_event("GET", "/sessions/" + id)));
  EXPECT_EQ(anon.at("uploadKey").as_string(), *s.upload_key);
  EXPECT_FALSE(anon.contains("downloadUrl"));
  auto desk = body(call_http(http_event("GET", "/sessions/" + id, {}, std::nullopt,
                                        {{"authorization", "Bearer " + token}})));
  EXPECT_NE(std::string(desk.at("downloadUrl").as_string()).find(*s.upload_key), std::string::npos);
  EXPECT_EQ(desk.at("contentType").as_string(), "image/png");
  EXPECT_EQ(desk.at("size").as_int64(), 116);
  auto wrong = call_http(
      http_event("GET", "/sessions/" + id, {}, std::nullopt, {{"authorization", "Bearer nope"}}));
  EXPECT_EQ(status(wrong), 403);
}

TEST_F(HttpApiHandler, GetSessionValidatesTheId) {
  EXPECT_EQ(status(call_http(http_event("GET", "/sessions/nope"))), 404);
  EXPECT_EQ(error_of(call_http(http_event("GET", "/sessions/nope"))), "Invalid sessionId format");
  EXPECT_EQ(
      error_of(call_http(http_event("GET", "/sessions/0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b"))),
      "Session not found");
  EXPECT_EQ(status(call_http(http_event("GET", "/sessions/"))), 400);
}

TEST_F(HttpApiHandler, UnknownRouteIs404JsonAndWrongMethodIs405) {
  auto r = call_http(http_event("GET", "/nope"));
  EXPECT_EQ(status(r), 404);
  EXPECT_EQ(error_of(r), "Not Found");
  EXPECT_EQ(r.at("headers").as_object().at("Content-Type").as_string(), "application/json");
  EXPECT_EQ(status(call_http(http_event("GET", "/sessions"))), 405);
  EXPECT_EQ(status(call_http(http_event("DELETE", "/upload-url"))), 405);
  EXPECT_EQ(status(call_http(http_event("GET", "/sessions/a/b"))), 404);
}

TEST_F(HttpApiHandler, OptionsAnswersThePreflight) {
  auto r = call_http(http_event("OPTIONS", "/sessions"));
  EXPECT_EQ(status(r), 204);
  auto h = r.at("headers").as_object();
  EXPECT_EQ(h.at("Access-Control-Allow-Origin").as_string(), "*");
  EXPECT_NE(std::string(h.at("Access-Control-Allow-Headers").as_string()).find("Authorization"),
            std::string::npos);
}

TEST_F(HttpApiHandler, NamedStagePrefixIsStripped) {
  auto event = http_event("POST", "/prod/sessions");
  event.as_object()["requestContext"].as_object()["stage"] = "prod";
  EXPECT_EQ(status(call_http(event)), 200);
}

TEST_F(HttpApiHandler, EventsThatAreNotHttpApiEventsAre400) {
  EXPECT_EQ(status(call_http(json::value(42))), 400);
  EXPECT_EQ(status(call_http(json::object{{"requestContext", json::object{}}})), 400);
  EXPECT_EQ(status(call_http(json::object{{"requestContext", {{"http", {{"method", 5}}}}}})), 400);
}

TEST_F(HttpApiHandler, RealSamplesRouteToNotFound) {
  auto r = call_http(load_sample("apigw-v2-request-no-authorizer.json"));
  EXPECT_EQ(status(r), 404);
  auto iam = call_http(load_sample("apigw-v2-request-iam.json"));
  EXPECT_EQ(status(iam), 404);
  EXPECT_EQ(log.request_id(), "LV7fzho-PHcEJPw=") << "requestId from the first event is logged";
}

TEST_F(HttpApiHandler, AnExceptionBecomesA500) {
  ThrowingSessionStore throwing;
  handlers::Context t{throwing, objects, notifier, clock, random, log, settings};
  auto r = functions::http_api_handler(http_event("POST", "/sessions"), t).as_object();
  EXPECT_EQ(status(r), 500);
  EXPECT_EQ(error_of(r), "Internal server error");
  auto w = functions::websocket_event_handler(ws_event("$disconnect", "c"), t).as_object();
  EXPECT_EQ(status(w), 500);
}

}  // namespace
}  // namespace qr::testing

namespace qr::functions {
namespace {

// The local server serves a path itself unless the router's table claims it.
TEST(HttpApiRoutes, TheRouteTableSaysWhichPathsAreTheApis) {
  for (std::string_view path : {"/sessions", "/upload-url", "/sessions/abc", "/sessions/"})
    EXPECT_TRUE(is_http_api_path(path)) << path;
  for (std::string_view path : {"/", "/phone.html", "/config.js", "/objects/x", "/sessions/a/b",
                                "/sessionsx", "/upload", "/upload-url/x", "", "/ws"})
    EXPECT_FALSE(is_http_api_path(path)) << path;
}

}  // namespace
}  // namespace qr::functions
