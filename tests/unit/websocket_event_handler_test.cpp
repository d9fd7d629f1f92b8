// The WebSocket/S3 router on whole events, every port faked.
#include "router_fixture.hpp"

namespace qr::testing {
namespace {

using WebSocketEventHandler = RouterTest;

TEST_F(WebSocketEventHandler, ConnectWithTokenBindsTheDesktop) {
  auto [id, token] = create();
  auto r = call_ws(ws_event("$connect", "conn-1=", {{"sessionId", id}, {"token", token}}));
  ASSERT_EQ(status(r), 200);
  EXPECT_EQ(body(r).at("message").as_string(), "Connected");
  auto s = *sessions.peek(id);
  EXPECT_EQ(s.ws_connection_id, "conn-1=");
  EXPECT_TRUE(s.ws_token_bound);
}

TEST_F(WebSocketEventHandler, ConnectRejectsMissingInvalidUnknownAndExpiredSessions) {
  auto missing = call_ws(ws_event("$connect", "c"));
  EXPECT_EQ(status(missing), 400);
  EXPECT_EQ(error_of(missing), "sessionId is required");
  EXPECT_EQ(status(call_ws(ws_event("$connect", "c", {{"sessionId", "x"}}))), 404);
  EXPECT_EQ(status(call_ws(ws_event("$connect", "c",
                                    {{"sessionId", "0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b"}}))),
            404);
  auto [id, token] = create();
  clock.advance(std::chrono::seconds(1801));
  auto expired = call_ws(ws_event("$connect", "c", {{"sessionId", id}, {"token", token}}));
  EXPECT_EQ(status(expired), 400);
  EXPECT_EQ(error_of(expired), "Session expired");
  EXPECT_FALSE(sessions.peek(id)->ws_connection_id);
}

TEST_F(WebSocketEventHandler, ConnectWithWrongTokenIs403) {
  auto [id, token] = create();
  auto r = call_ws(ws_event("$connect", "evil", {{"sessionId", id}, {"token", token + "x"}}));
  EXPECT_EQ(status(r), 403);
  EXPECT_FALSE(sessions.peek(id)->ws_connection_id);
}

TEST_F(WebSocketEventHandler, TokenlessConnectionIsAcceptedButCannotDisplaceTheDesktop) {
  auto [id, token] = create();
  auto anon_first = call_ws(ws_event("$connect", "anon-1", {{"sessionId", id}}));
  EXPECT_EQ(status(anon_first), 200);
  EXPECT_EQ(sessions.peek(id)->ws_connection_id, "anon-1")
      << "the spec binds tokenless connections";
  EXPECT_FALSE(sessions.peek(id)->ws_token_bound);

  ASSERT_EQ(status(call_ws(ws_event("$connect", "desk", {{"sessionId", id}, {"token", token}}))),
            200);
  auto anon_second = call_ws(ws_event("$connect", "anon-2", {{"sessionId", id}}));
  EXPECT_EQ(status(anon_second), 200);
  EXPECT_EQ(sessions.peek(id)->ws_connection_id, "desk");
  EXPECT_TRUE(sessions.peek(id)->ws_token_bound);
}

TEST_F(WebSocketEventHandler, ConnectToACompletedSessionIsAllowedSoAReloadCanCatchUp) {
  auto [id, token] = create();
  Session s = *sessions.peek(id);
  s.status = SessionStatus::completed;
  sessions.put(s);
  EXPECT_EQ(status(call_ws(ws_event("$connect", "c", {{"sessionId", id}, {"token", token}}))), 200);
}

TEST_F(WebSocketEventHandler, ConnectStorageFailureIs500) {
  auto [id, token] = create();
  sessions.faults.push(ErrorCode::unavailable);
  EXPECT_EQ(status(call_ws(ws_event("$connect", "c", {{"sessionId", id}}))), 500);
}

TEST_F(WebSocketEventHandler, RealConnectSampleParses) {
  auto event = load_sample("apigw-websocket-request.json");
  auto r = call_ws(event);
  // The sample has no sessionId: rejected with the spec's 400, not a crash.
  EXPECT_EQ(status(r), 400);
  EXPECT_EQ(log.request_id(), std::string(event.at("requestContext").at("requestId").as_string()));
}

TEST_F(WebSocketEventHandler, DisconnectClearsTheConnection) {
  auto [id, token] = create();
  call_ws(ws_event("$connect", "c1", {{"sessionId", id}, {"token", token}}));
  auto r = call_ws(ws_event("$disconnect", "c1"));
  EXPECT_EQ(status(r), 200);
  EXPECT_FALSE(sessions.peek(id)->ws_connection_id);
  EXPECT_FALSE(sessions.peek(id)->ws_token_bound);
}

TEST_F(WebSocketEventHandler, DisconnectAlwaysAnswers200) {
  EXPECT_EQ(status(call_ws(ws_event("$disconnect", "unknown"))), 200);
  sessions.faults.push(ErrorCode::unavailable);
  EXPECT_EQ(status(call_ws(ws_event("$disconnect", "c"))), 200);
  EXPECT_EQ(status(call_ws(load_sample("apigw-websocket-request-disconnect.json"))), 200);
}

TEST_F(WebSocketEventHandler, UnknownRoutesAndEventsAre400) {
  EXPECT_EQ(status(call_ws(ws_event("$default", "c"))), 400);
  EXPECT_EQ(error_of(call_ws(json::object{{"hello", 1}})), "Unknown event type");
  EXPECT_EQ(status(call_ws(json::value("str"))), 400);
  EXPECT_EQ(status(call_ws(json::object{{"Records", json::array{}}})), 400);
  EXPECT_EQ(status(call_ws(json::object{{"Records", json::array{json::object{{"sns", 1}}}}})), 400);
}

class S3Completion : public RouterTest {
 protected:
  std::string id, token, key;
  void SetUp() override {
    std::tie(id, token) = create();
    call_ws(ws_event("$connect", "desk", {{"sessionId", id}, {"token", token}}));
    key =
        std::string(request_upload(id, {{"contentType", "image/png"}}).at("uploadKey").as_string());
    // PHONE_CONNECTED went out when the phone claimed the session (its own test below); these
    // tests are about what the upload brings.
    ASSERT_EQ(sent_with_action("PHONE_CONNECTED").size(), 1u);
    notifier.sent.clear();
  }
  void stored(const std::string& bytes, const std::string& k = "") {
    objects.objects[k.empty() ? key : k] = {bytes, "image/png"};
  }
};

TEST_F(S3Completion, CompletesTheSessionAndTellsTheDesktopWithAnImageLink) {
  stored(png_bytes);
  auto r = call_ws(s3_event({key}));
  ASSERT_EQ(status(r), 200);
  EXPECT_EQ(body(r).at("completed").as_int64(), 1);
  auto s = *sessions.peek(id);
  EXPECT_EQ(s.status, SessionStatus::completed);
  EXPECT_EQ(s.completed_at, clock.now_seconds());
  EXPECT_EQ(s.upload_size, static_cast<std::int64_t>(png_bytes.size()));
  // The photo, then (a single-photo session being full) the end of the session.
  ASSERT_EQ(notifier.sent.size(), 2u);
  EXPECT_EQ(notifier.sent[0].connection_id, "desk");
  auto m = json::parse(notifier.sent[0].message).as_object();
  EXPECT_EQ(m.at("action").as_string(), "UPLOAD_COMPLETED");
  auto end = json::parse(notifier.sent[1].message).as_object();
  EXPECT_EQ(end.at("action").as_string(), "SESSION_COMPLETED");
  EXPECT_EQ(end.at("reason").as_string(), "full");
  EXPECT_EQ(end.at("uploadCount").as_int64(), 1);
  EXPECT_EQ(m.at("sessionId").as_string(), id);
  EXPECT_EQ(m.at("uploadKey").as_string(), key);
  EXPECT_EQ(m.at("timestamp").as_int64(), clock.now_seconds());
  EXPECT_NE(std::string(m.at("downloadUrl").as_string()).find(key), std::string::npos);
  EXPECT_EQ(m.at("contentType").as_string(), "image/png");
  EXPECT_EQ(m.at("size").as_int64(), static_cast<std::int64_t>(png_bytes.size()));
}

TEST_F(S3Completion, TokenlessConnectionGetsTheSpecsMessageWithoutALink) {
  call_ws(ws_event("$disconnect", "desk"));
  call_ws(ws_event("$connect", "anon", {{"sessionId", id}}));
  stored(png_bytes);
  call_ws(s3_event({key}));
  ASSERT_EQ(notifier.sent.size(), 1u);
  auto m = json::parse(notifier.sent[0].message).as_object();
  EXPECT_EQ(m.size(), 4u) << notifier.sent[0].message;
  EXPECT_FALSE(m.contains("downloadUrl"));
}

TEST_F(S3Completion, DuplicateEventIsANoOpAndDoesNotNotifyTwice) {
  stored(png_bytes);
  ASSERT_EQ(status(call_ws(s3_event({key}))), 200);
  const auto sent_once = notifier.sent.size();
  auto again = call_ws(s3_event({key, key}));
  EXPECT_EQ(status(again), 200);
  EXPECT_EQ(body(again).at("duplicates").as_int64(), 2);
  EXPECT_EQ(notifier.sent.size(), sent_once) << "nothing is sent twice";
  EXPECT_EQ(sent_with_action("UPLOAD_COMPLETED").size(), 1u);
}

TEST_F(S3Completion, EveryRecordIsHandledNotOnlyTheFirst) {
  auto [id2, token2] = create();
  call_ws(ws_event("$connect", "desk2", {{"sessionId", id2}, {"token", token2}}));
  const std::string key2(request_upload(id2).at("uploadKey").as_string());
  stored(png_bytes);
  stored(jpeg_bytes, key2);
  auto r = call_ws(s3_event({"session-uploads/other/x", key, key2}));
  EXPECT_EQ(status(r), 200);
  EXPECT_EQ(body(r).at("completed").as_int64(), 2);
  EXPECT_EQ(body(r).at("ignored").as_int64(), 1);
  EXPECT_EQ(sessions.peek(id2)->status, SessionStatus::completed);
  EXPECT_EQ(sessions.peek(id2)->content_type, "image/jpeg")
      << "wildcard upload records what it was";
  EXPECT_EQ(sent_with_action("UPLOAD_COMPLETED").size(), 2u);
}

TEST_F(S3Completion, KeysAreFormUrlDecoded) {
  const std::string spaced = "session-uploads/" + id + "/my photo%.png";
  Session s = *sessions.peek(id);
  s.upload_key = spaced;
  s.uploads.push_back(UploadSlot{spaced, "my photo.png", "image/png", clock.now_seconds()});
  sessions.put(s);
  stored(png_bytes, spaced);
  auto r = call_ws(s3_event({"session-uploads/" + id + "/my+photo%25.png"}));
  EXPECT_EQ(body(r).at("completed").as_int64(), 1);
}

TEST_F(S3Completion, IgnoresKeysOutsideTheLayoutOrNotIssued) {
  stored(png_bytes);
  auto r = call_ws(s3_event({"Happy%20Face.jpg", "session-uploads/" + id + "/image-0.png",
                             "session-uploads/" + id + "/a/b", "session-uploads/not-a-uuid/x",
                             "session-uploads/0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b/x", "bad%zz"}));
  EXPECT_EQ(status(r), 200);
  EXPECT_EQ(body(r).at("ignored").as_int64(), 6);
  EXPECT_EQ(sessions.peek(id)->status, SessionStatus::upload_requested);
  EXPECT_TRUE(notifier.sent.empty());
  EXPECT_TRUE(logged("s3 record ignored"));
}

TEST_F(S3Completion, IgnoresEventsOtherThanObjectCreated) {
  stored(png_bytes);
  auto r = call_ws(s3_event({key}, "ObjectRemoved:Delete"));
  EXPECT_EQ(body(r).at("ignored").as_int64(), 1);
  EXPECT_EQ(sessions.peek(id)->status, SessionStatus::upload_requested);
}

TEST_F(S3Completion, OversizedUploadIsDeletedReportedAndTheSessionStaysOpen) {
  settings.max_upload_bytes = 50;
  stored(png_bytes);
  auto r = call_ws(s3_event({key}));
  EXPECT_EQ(status(r), 200);
  EXPECT_EQ(body(r).at("rejected").as_int64(), 1);
  EXPECT_FALSE(objects.objects.contains(key));
  EXPECT_EQ(sessions.peek(id)->status, SessionStatus::upload_requested);
  ASSERT_EQ(notifier.sent.size(), 1u);
  auto m = json::parse(notifier.sent[0].message).as_object();
  EXPECT_EQ(m.at("action").as_string(), "ERROR");
  EXPECT_NE(std::string(m.at("error").as_string()).find("too large"), std::string::npos);
  settings.max_upload_bytes = 1 << 20;
  auto retry = request_upload(id, {{"contentType", "image/png"}});
  EXPECT_NE(std::string(retry.at("uploadKey").as_string()), key) << "another try is possible";
}

TEST_F(S3Completion, UploadOfTheWrongTypeIsRejected) {
  stored(jpeg_bytes);  // signed image/png, sent a JPEG
  auto r = call_ws(s3_event({key}));
  EXPECT_EQ(body(r).at("rejected").as_int64(), 1);
  EXPECT_FALSE(objects.objects.contains(key));
  stored("<html>not an image</html>");
  EXPECT_EQ(body(call_ws(s3_event({key}))).at("rejected").as_int64(), 1);
  EXPECT_EQ(sessions.peek(id)->status, SessionStatus::upload_requested);
}

// A deployment that takes fewer types (ALLOWED_CONTENT_TYPES): the spec's image/* URL accepts
// any image, so the bytes that land are held to the list.
TEST_F(S3Completion, AWildcardUploadOfATypeTheDeploymentDoesNotTakeIsRejected) {
  settings.allowed_types = *AllowedImageTypes::parse("image/png");
  auto [id2, token2] = create();
  call_ws(ws_event("$connect", "desk2", {{"sessionId", id2}, {"token", token2}}));
  const std::string wildcard(request_upload(id2).at("uploadKey").as_string());
  stored(jpeg_bytes, wildcard);
  auto r = call_ws(s3_event({wildcard}));
  EXPECT_EQ(status(r), 200);
  EXPECT_EQ(body(r).at("rejected").as_int64(), 1);
  EXPECT_EQ(body(r).at("rejections").at(0).at("status").as_int64(), 422);
  EXPECT_EQ(body(r).at("rejections").at(0).at("reason").as_string(),
            "Upload rejected: images of type image/jpeg are not accepted");
  EXPECT_FALSE(objects.objects.contains(wildcard));
  const std::string again(request_upload(id2).at("uploadKey").as_string());
  stored(png_bytes, again);
  EXPECT_EQ(body(call_ws(s3_event({again}))).at("completed").as_int64(), 1);
  EXPECT_EQ(sessions.peek(id2)->content_type, "image/png");
}

TEST_F(S3Completion, RedeliveryAfterARejectionIsIgnored) {
  stored("nope");
  call_ws(s3_event({key}));
  auto again = call_ws(s3_event({key}));
  EXPECT_EQ(body(again).at("ignored").as_int64(), 1);
  EXPECT_EQ(notifier.sent.size(), 1u);
}

TEST_F(S3Completion, GoneConnectionIsClearedAndTheEventSucceeds) {
  notifier.gone.insert("desk");
  stored(png_bytes);
  auto r = call_ws(s3_event({key}));
  EXPECT_EQ(status(r), 200);
  auto s = *sessions.peek(id);
  EXPECT_EQ(s.status, SessionStatus::completed);
  EXPECT_FALSE(s.ws_connection_id);
}

// The spec re-raises a failed notification so that Lambda retries: the photo stays counted, the
// record fails (500: the event comes again), and the redelivery sends what never arrived.
TEST_F(S3Completion, NotifierFailureFailsTheRecordAndTheRedeliveryResendsIt) {
  notifier.faults.push(ErrorCode::unavailable, "500 from management api");
  stored(png_bytes);
  const auto event = s3_event({key});
  auto r = call_ws(event);
  EXPECT_EQ(status(r), 500);
  EXPECT_EQ(body(r).at("failed").as_int64(), 1);
  EXPECT_TRUE(functions::should_redeliver(event, r));
  EXPECT_EQ(sessions.peek(id)->status, SessionStatus::completed);
  EXPECT_EQ(sessions.peek(id)->upload_count, 1);
  EXPECT_TRUE(logged("notification failed"));
  EXPECT_TRUE(notifier.sent.empty());
  EXPECT_FALSE(find_slot(*sessions.peek(id), key)->notified_at);
  EXPECT_FALSE(find_slot(*sessions.peek(id), key)->notifying_until)
      << "given back, so the redelivery need not wait for the hold to lapse";

  // Lambda delivers the event again: the photo is not counted again, the message is sent, then
  // (the single-photo session being full) the session's end.
  auto again = call_ws(event);
  EXPECT_EQ(status(again), 200);
  EXPECT_EQ(body(again).at("duplicates").as_int64(), 1);
  ASSERT_EQ(notifier.sent.size(), 2u);
  EXPECT_EQ(json::parse(notifier.sent[0].message).at("action").as_string(), "UPLOAD_COMPLETED");
  EXPECT_EQ(json::parse(notifier.sent[0].message).at("uploadKey").as_string(), key);
  EXPECT_EQ(json::parse(notifier.sent[1].message).at("action").as_string(), "SESSION_COMPLETED");
  const UploadSlot slot = *find_slot(*sessions.peek(id), key);
  EXPECT_EQ(slot.notified_at, clock.now_seconds());
  EXPECT_FALSE(slot.notifying_until) << "given back once told";
  EXPECT_EQ(slot.index, 1) << "counted once";
  // Told: no later delivery sends it again.
  EXPECT_EQ(status(call_ws(event)), 200);
  EXPECT_EQ(notifier.sent.size(), 2u);
}

TEST_F(S3Completion, ADeliveredNotificationIsRecordedOnTheSlot) {
  stored(png_bytes);
  clock.advance(std::chrono::seconds(7));
  ASSERT_EQ(status(call_ws(s3_event({key}))), 200);
  const UploadSlot slot = *find_slot(*sessions.peek(id), key);
  EXPECT_TRUE(slot.completed);
  EXPECT_EQ(slot.notified_at, clock.now_seconds());
  EXPECT_FALSE(slot.notifying_until);
}

TEST_F(S3Completion, AFailedResendFailsAgainAndTheNextDeliveryTriesAgain) {
  notifier.faults.push(ErrorCode::unavailable);
  notifier.faults.push(ErrorCode::throttled);
  stored(png_bytes);
  EXPECT_EQ(status(call_ws(s3_event({key}))), 500);
  EXPECT_EQ(status(call_ws(s3_event({key}))), 500) << "the resend failed too";
  EXPECT_TRUE(notifier.sent.empty());
  EXPECT_FALSE(find_slot(*sessions.peek(id), key)->notifying_until) << "given back each time";
  EXPECT_EQ(status(call_ws(s3_event({key}))), 200);
  EXPECT_EQ(sent_with_action("UPLOAD_COMPLETED").size(), 1u);
  EXPECT_EQ(sessions.peek(id)->upload_count, 1);
}

// Two deliveries of one event at once: the one that counted the photo holds the telling of it
// (notifyingUntil, the function's timeout); the other sends nothing while it holds it, and takes
// over only once the hold lapsed with the desktop never told (the holder died).
TEST_F(S3Completion, ADeliveryWhileAnotherIsTellingTheDesktopSendsNothing) {
  stored(png_bytes);
  Session s = *sessions.peek(id);
  UploadSlot counted = *find_slot(s, key);
  counted.completed = true;
  counted.index = 1;
  counted.size = static_cast<std::int64_t>(png_bytes.size());
  counted.completed_at = clock.now_seconds();
  counted.notifying_until = clock.now_seconds() + 60;
  s.uploads = {counted};
  s.upload_count = 1;
  s.status = SessionStatus::completed;
  sessions.put(s);
  EXPECT_EQ(status(call_ws(s3_event({key}))), 200);
  EXPECT_TRUE(notifier.sent.empty()) << "the holder tells the desktop";
  clock.advance(std::chrono::seconds(60));
  EXPECT_EQ(status(call_ws(s3_event({key}))), 200);
  EXPECT_TRUE(notifier.sent.empty()) << "held until the end of its last second";
  clock.advance(std::chrono::seconds(1));
  EXPECT_EQ(status(call_ws(s3_event({key}))), 200);
  EXPECT_EQ(sent_with_action("UPLOAD_COMPLETED").size(), 1u) << "taken over after the hold lapsed";
  EXPECT_EQ(find_slot(*sessions.peek(id), key)->notified_at, clock.now_seconds());
  EXPECT_EQ(status(call_ws(s3_event({key}))), 200);
  EXPECT_EQ(sent_with_action("UPLOAD_COMPLETED").size(), 1u);
}

// Gone or absent is not a failure: nothing is retried, and the desktop catches up with GET
// /sessions/{id} when it connects. A later duplicate finds a connection and tells it once.
TEST_F(S3Completion, APhotoNoConnectionHeardOfIsToldToTheNextConnectionByADuplicate) {
  notifier.gone.insert("desk");
  stored(png_bytes);
  ASSERT_EQ(status(call_ws(s3_event({key}))), 200);
  EXPECT_FALSE(find_slot(*sessions.peek(id), key)->notified_at);
  EXPECT_EQ(status(call_ws(s3_event({key}))), 200);
  EXPECT_TRUE(notifier.sent.empty()) << "no connection to tell";
  ASSERT_EQ(status(call_ws(ws_event("$connect", "desk-2", {{"sessionId", id}, {"token", token}}))),
            200);
  clock.advance(std::chrono::seconds(61));
  EXPECT_EQ(status(call_ws(s3_event({key}))), 200);
  ASSERT_EQ(sent_with_action("UPLOAD_COMPLETED").size(), 1u);
  EXPECT_EQ(notifier.sent[0].connection_id, "desk-2");
  EXPECT_EQ(status(call_ws(s3_event({key}))), 200);
  EXPECT_EQ(sent_with_action("UPLOAD_COMPLETED").size(), 1u);
}

TEST_F(S3Completion, ARefusalsFailedNotificationDoesNotFailTheRecord) {
  notifier.faults.push(ErrorCode::unavailable);
  stored("not an image");
  auto r = call_ws(s3_event({key}));
  EXPECT_EQ(status(r), 200) << "the upload is deleted: a redelivery would find nothing to tell";
  EXPECT_EQ(body(r).at("rejected").as_int64(), 1);
}

TEST_F(S3Completion, StorageFailureFailsTheEventSoItIsDeliveredAgain) {
  stored(png_bytes);
  objects.inspect_faults.push(ErrorCode::throttled);
  auto r = call_ws(s3_event({key}));
  EXPECT_EQ(status(r), 500);
  EXPECT_EQ(body(r).at("failed").as_int64(), 1);
  EXPECT_EQ(sessions.peek(id)->status, SessionStatus::upload_requested);
  EXPECT_TRUE(notifier.sent.empty());
  EXPECT_EQ(status(call_ws(s3_event({key}))), 200) << "the redelivery completes it";
  EXPECT_EQ(sessions.peek(id)->status, SessionStatus::completed);
}

TEST_F(S3Completion, OnlyAFailedS3EventAsksLambdaToRedeliverIt) {
  stored(png_bytes);
  objects.inspect_faults.push(ErrorCode::unavailable);
  const auto event = s3_event({key});
  const auto failed = functions::websocket_event_handler(event, ctx);
  EXPECT_TRUE(functions::should_redeliver(event, failed));
  const auto ok = functions::websocket_event_handler(event, ctx);
  EXPECT_FALSE(functions::should_redeliver(event, ok));
  sessions.faults.push(ErrorCode::unavailable);
  const auto connect = ws_event("$connect", "c", {{"sessionId", id}});
  const auto refused = functions::websocket_event_handler(connect, ctx);
  EXPECT_EQ(status(refused.as_object()), 500);
  EXPECT_FALSE(functions::should_redeliver(connect, refused))
      << "a $connect 500 is an answer, not a retry";
}

TEST_F(S3Completion, RealS3SamplesParse) {
  EXPECT_EQ(status(call_ws(load_sample("s3-event.json"))), 200);
  EXPECT_EQ(status(call_ws(load_sample("s3-event-with-decoded.json"))), 200);
}

}  // namespace
}  // namespace qr::testing
