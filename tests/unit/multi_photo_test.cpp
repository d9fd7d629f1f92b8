// Multi-photo sessions through both routers, on whole events: maxUploads, slots that count once,
// the phone that claimed it, original names, the desktop's "Done", and the messages each brings.
#include <boost/json.hpp>

#include "handlers/handlers.hpp"
#include "router_fixture.hpp"

namespace qr::testing {
namespace {

class MultiPhoto : public RouterTest {
 protected:
  std::string id, token;

  // A session for `room` photos, its desktop connected with the token.
  void open(int room) {
    auto r = call_http(
        http_event("POST", "/sessions", {}, R"({"maxUploads":)" + std::to_string(room) + "}"));
    ASSERT_EQ(status(r), 200) << json::serialize(r);
    EXPECT_EQ(body(r).at("maxUploads").as_int64(), room);
    id = std::string(body(r).at("sessionId").as_string());
    token = std::string(body(r).at("desktopToken").as_string());
    ASSERT_EQ(status(call_ws(ws_event("$connect", "desk", {{"sessionId", id}, {"token", token}}))),
              200);
  }
  // Issues a slot for a photo called `name`; its key.
  std::string slot(std::string name, std::string type = "image/jpeg") {
    return std::string(request_upload(id, {{"contentType", type}, {"fileName", name}})
                           .at("uploadKey")
                           .as_string());
  }
  // The photo lands in storage and S3 announces it; the router's answer body.
  json::object arrive(const std::string& key, const std::string& bytes = jpeg_bytes) {
    objects.objects[key] = {bytes, "image/jpeg"};
    auto r = call_ws(s3_event({key}));
    EXPECT_EQ(status(r), 200) << json::serialize(r);
    return body(r);
  }
  json::object get(bool with_token) {
    json::object headers;
    if (with_token) headers["authorization"] = "Bearer " + token;
    return body(call_http(http_event("GET", "/sessions/" + id, {}, std::nullopt, headers)));
  }
};

TEST_F(MultiPhoto, MaxUploadsMustBeAnIntegerFromOneToAHundred) {
  for (const char* good : {R"({"maxUploads":1})", R"({"maxUploads":100})", R"({"maxUploads":3.0})",
                           R"({"other":1})", "{}"})
    EXPECT_EQ(status(call_http(http_event("POST", "/sessions", {}, std::string(good)))), 200)
        << good;
  for (const char* bad :
       {R"({"maxUploads":0})", R"({"maxUploads":101})", R"({"maxUploads":2.5})",
        R"({"maxUploads":"3"})", R"({"maxUploads":true})", R"({"maxUploads":null})",
        R"({"maxUploads":-1})", R"({"maxUploads":1e300})"}) {
    auto r = call_http(http_event("POST", "/sessions", {}, std::string(bad)));
    EXPECT_EQ(status(r), 400) << bad;
    EXPECT_EQ(error_of(r), "maxUploads must be an integer from 1 to 100") << bad;
  }
  EXPECT_EQ(sessions.size(), 5u) << "no session for a refused request";
}

TEST_F(MultiPhoto, TheSpecsSessionTakesOnePhotoAndSaysNothingNewToASpecClient) {
  auto [spec_id, spec_token] = create();
  EXPECT_EQ(sessions.peek(spec_id)->max_uploads, 1);
  // A spec client: tokenless connection, asks once, uploads once.
  call_ws(ws_event("$connect", "spec", {{"sessionId", spec_id}}));
  const auto upload = request_upload(spec_id);
  const std::string key(upload.at("uploadKey").as_string());
  objects.objects[key] = {png_bytes, "image/png"};
  call_ws(s3_event({key}));
  ASSERT_EQ(notifier.sent.size(), 1u) << "no PHONE_CONNECTED, no SESSION_COMPLETED";
  const auto m = json::parse(notifier.sent[0].message).as_object();
  EXPECT_EQ(m.size(), 4u) << notifier.sent[0].message;
  EXPECT_EQ(m.at("action").as_string(), "UPLOAD_COMPLETED");
  EXPECT_EQ(sessions.peek(spec_id)->status, SessionStatus::completed);
}

TEST_F(MultiPhoto, EveryIssuedSlotCountsOnceInWhateverOrderTheyArrive) {
  open(3);
  const std::string first = slot("IMG_1.JPG"), second = slot("IMG_2.JPG"),
                    third = slot("IMG_3.JPG");
  EXPECT_EQ(sessions.peek(id)->uploads.size(), 3u);
  EXPECT_EQ(arrive(second).at("completed").as_int64(), 1) << "an earlier URL is as good";
  EXPECT_EQ(sessions.peek(id)->status, SessionStatus::upload_requested) << "room for two more";
  EXPECT_EQ(arrive(first).at("completed").as_int64(), 1);
  EXPECT_EQ(arrive(second).at("duplicates").as_int64(), 1) << "a redelivery does not count";
  EXPECT_EQ(sessions.peek(id)->upload_count, 2);
  EXPECT_EQ(arrive(third).at("completed").as_int64(), 1);
  const Session done = *sessions.peek(id);
  EXPECT_EQ(done.status, SessionStatus::completed);
  EXPECT_EQ(done.upload_count, 3);
  EXPECT_EQ(done.completed_at, clock.now_seconds());

  const auto photos = sent_with_action("UPLOAD_COMPLETED");
  ASSERT_EQ(photos.size(), 3u);
  EXPECT_EQ(photos[0].at("uploadKey").as_string(), second);
  EXPECT_EQ(photos[0].at("fileName").as_string(), "IMG_2.JPG");
  EXPECT_EQ(photos[0].at("index").as_int64(), 1);
  EXPECT_EQ(photos[0].at("uploadsRemaining").as_int64(), 2);
  EXPECT_EQ(photos[0].at("maxUploads").as_int64(), 3);
  EXPECT_EQ(photos[0].at("size").as_int64(), static_cast<std::int64_t>(jpeg_bytes.size()));
  EXPECT_EQ(photos[0].at("contentType").as_string(), "image/jpeg");
  EXPECT_NE(std::string(photos[0].at("downloadUrl").as_string()).find("name=IMG_2.JPG"),
            std::string::npos)
      << "the link names the photo";
  EXPECT_EQ(photos[2].at("index").as_int64(), 3);
  EXPECT_EQ(photos[2].at("uploadsRemaining").as_int64(), 0);
  const auto end = sent_with_action("SESSION_COMPLETED");
  ASSERT_EQ(end.size(), 1u);
  EXPECT_EQ(end[0].at("reason").as_string(), "full");
  EXPECT_EQ(end[0].at("uploadCount").as_int64(), 3);
}

TEST_F(MultiPhoto, APhotoAfterTheSessionIsFullIsDeletedAndReported) {
  open(1);
  const std::string first = slot("a.jpg");
  // The phone asked twice and sends both: the session has room for one.
  const std::string second = slot("b.jpg");
  arrive(first);
  const auto late = arrive(second);
  EXPECT_EQ(late.at("rejected").as_int64(), 1);
  EXPECT_EQ(late.at("rejections").as_array()[0].at("status").as_int64(), 409);
  EXPECT_FALSE(objects.objects.contains(second)) << "bytes past the count are deleted";
  EXPECT_TRUE(objects.objects.contains(first));
  EXPECT_EQ(sessions.peek(id)->upload_count, 1);
  const auto errors = sent_with_action("ERROR");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].at("uploadKey").as_string(), second);
  EXPECT_EQ(errors[0].at("fileName").as_string(), "b.jpg");
  EXPECT_NE(std::string(errors[0].at("error").as_string()).find("all its photos"),
            std::string::npos);
}

TEST_F(MultiPhoto, BytesUnderAKeyThatWasNeverIssuedAreDeletedAndReported) {
  open(3);
  slot("a.jpg");
  const std::string forged = "session-uploads/" + id + "/image-1-deadbeef.jpg";
  const auto r = arrive(forged);
  EXPECT_EQ(r.at("rejected").as_int64(), 1);
  EXPECT_EQ(r.at("rejections").as_array()[0].at("status").as_int64(), 403);
  EXPECT_FALSE(objects.objects.contains(forged));
  EXPECT_EQ(sessions.peek(id)->upload_count, 0);
  EXPECT_EQ(sent_with_action("ERROR").size(), 1u);
}

TEST_F(MultiPhoto, APhotoThatLandsAfterExpiryIsDeletedAndReported) {
  open(3);
  const std::string key = slot("a.jpg");
  clock.advance(std::chrono::seconds(settings.session_ttl_seconds + 1));
  const auto r = arrive(key);
  EXPECT_EQ(r.at("rejected").as_int64(), 1);
  EXPECT_EQ(r.at("rejections").as_array()[0].at("status").as_int64(), 410);
  EXPECT_FALSE(objects.objects.contains(key));
  EXPECT_EQ(sessions.peek(id)->upload_count, 0);
}

TEST_F(MultiPhoto, ThePhoneThatClaimedItIsTheOnlyOneThatMayAskAgain) {
  open(5);
  auto first = call_http(http_event("GET", "/upload-url", {{"sessionId", id}}));
  ASSERT_EQ(status(first), 200);
  const std::string phone_token(body(first).at("uploaderToken").as_string());
  EXPECT_EQ(sessions.peek(id)->uploader_token_hash, handlers::hash_token(phone_token))
      << "stored only as a hash";
  const auto connected = sent_with_action("PHONE_CONNECTED");
  ASSERT_EQ(connected.size(), 1u);
  EXPECT_EQ(connected[0].at("sessionId").as_string(), id);

  // Someone who only saw the QR code.
  for (const json::object& headers :
       {json::object{}, json::object{{"authorization", "Bearer not-the-token"}},
        json::object{{"authorization", phone_token}}}) {
    auto other =
        call_http(http_event("GET", "/upload-url", {{"sessionId", id}}, std::nullopt, headers));
    EXPECT_EQ(status(other), 403);
    EXPECT_EQ(error_of(other),
              "This code is already in use by another phone. Scan a new code on the computer.");
  }
  auto again = call_http(http_event("GET", "/upload-url", {{"sessionId", id}}, std::nullopt,
                                    {{"authorization", "Bearer " + phone_token}}));
  ASSERT_EQ(status(again), 200);
  EXPECT_FALSE(body(again).contains("uploaderToken")) << "given once";
  EXPECT_EQ(sessions.peek(id)->uploads.size(), 2u) << "the refusals issued nothing";
  EXPECT_EQ(sent_with_action("PHONE_CONNECTED").size(), 1u) << "connected once";
}

TEST_F(MultiPhoto, UrlsPerSessionAreBounded) {
  open(1);
  for (std::size_t i = 0; i < max_slots(1); ++i) slot("x.jpg");
  json::object headers{{"authorization", "Bearer " + uploader_tokens[id]}};
  auto over =
      call_http(http_event("GET", "/upload-url", {{"sessionId", id}}, std::nullopt, headers));
  EXPECT_EQ(status(over), 409);
  EXPECT_EQ(error_of(over), "Too many upload URLs for this session");
}

TEST_F(MultiPhoto, TheNameIsSanitisedWhenIssuedAndItsExtensionFixedWhenChecked) {
  open(3);
  const auto upload = request_upload(id, {{"fileName", "../../evil\u202Egpj.png"}});
  EXPECT_EQ(upload.at("fileName").as_string(), "evilgpj.png");
  arrive(std::string(upload.at("uploadKey").as_string()), jpeg_bytes);  // a JPEG, not a PNG
  const auto listed = get(true).at("uploads").as_array();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].at("fileName").as_string(), "evilgpj.jpg");
  EXPECT_EQ(listed[0].at("contentType").as_string(), "image/jpeg");
  EXPECT_EQ(request_upload(id).at("fileName").as_string(), "photo") << "no name given";
}

TEST_F(MultiPhoto, APreviewTheStorageMadeIsLinkedForTheDesktopOnly) {
  open(3);
  const std::string heic = slot("IMG_1.HEIC", "image/heic");
  objects.previews.insert(heic);
  arrive(heic, std::string("\0\0\0\x18"
                           "ftypheic\0\0\0\0heicmif1",
                           24));
  const auto photos = sent_with_action("UPLOAD_COMPLETED");
  ASSERT_EQ(photos.size(), 1u);
  EXPECT_EQ(photos[0].at("previewUrl").as_string(),
            "https://fake-bucket.example/" + heic + ".preview.jpg");
  EXPECT_TRUE(get(true).at("uploads").as_array()[0].as_object().contains("previewUrl"));
  EXPECT_FALSE(get(false).at("uploads").as_array()[0].as_object().contains("previewUrl"));
  arrive(slot("b.jpg"));
  EXPECT_FALSE(sent_with_action("UPLOAD_COMPLETED")[1].contains("previewUrl")) << "none made";
}

TEST_F(MultiPhoto, GetSessionListsThePhotosWithLinksOnlyForTheDesktop) {
  open(4);
  arrive(slot("one.jpg"));
  slot("pending.jpg");
  arrive(slot("two.jpg"));
  const auto anyone = get(false);
  EXPECT_EQ(anyone.at("maxUploads").as_int64(), 4);
  EXPECT_EQ(anyone.at("uploadCount").as_int64(), 2);
  EXPECT_TRUE(anyone.at("phoneConnected").as_bool());
  const auto& listed = anyone.at("uploads").as_array();
  ASSERT_EQ(listed.size(), 2u) << "accepted photos only";
  EXPECT_EQ(listed[0].at("fileName").as_string(), "one.jpg");
  EXPECT_EQ(listed[1].at("index").as_int64(), 2);
  EXPECT_FALSE(listed[0].as_object().contains("downloadUrl"));
  const auto desktop = get(true);
  EXPECT_NE(std::string(desktop.at("uploads").as_array()[1].at("downloadUrl").as_string())
                .find("name=two.jpg"),
            std::string::npos);
}

TEST_F(MultiPhoto, TheDesktopEndsTheSessionWithItsTokenAndLaterPhotosAreRefused) {
  open(10);
  arrive(slot("one.jpg"));
  const std::string late = slot("late.jpg");
  const std::string path = "/sessions/" + id + "/complete";
  EXPECT_EQ(status(call_http(http_event("POST", path))), 403) << "no token";
  EXPECT_EQ(status(call_http(
                http_event("POST", path, {}, std::nullopt, {{"authorization", "Bearer wrong"}}))),
            403);
  EXPECT_EQ(sessions.peek(id)->status, SessionStatus::upload_requested);
  const json::object desk{{"authorization", "Bearer " + token}};
  auto done = call_http(http_event("POST", path, {}, std::nullopt, desk));
  ASSERT_EQ(status(done), 200);
  EXPECT_EQ(body(done).at("status").as_string(), "COMPLETED");
  EXPECT_EQ(body(done).at("uploadCount").as_int64(), 1);
  const auto ended = sent_with_action("SESSION_COMPLETED");
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].at("reason").as_string(), "ended");

  EXPECT_EQ(status(call_http(http_event("POST", path, {}, std::nullopt, desk))), 200)
      << "ending it again is what the desktop wanted";
  EXPECT_EQ(sent_with_action("SESSION_COMPLETED").size(), 1u) << "and says nothing twice";
  EXPECT_EQ(arrive(late).at("rejected").as_int64(), 1);
  EXPECT_FALSE(objects.objects.contains(late));
  json::object phone{{"authorization", "Bearer " + uploader_tokens[id]}};
  auto refused =
      call_http(http_event("GET", "/upload-url", {{"sessionId", id}}, std::nullopt, phone));
  EXPECT_EQ(status(refused), 400);
  EXPECT_EQ(error_of(refused), "Session already completed");
  EXPECT_EQ(status(call_http(http_event("GET", path))), 405);
  EXPECT_EQ(status(call_http(http_event("POST", "/sessions/nope/complete"))), 404);
}

TEST_F(MultiPhoto, TheDesktopMayEndASessionBeforeAnyPhoto) {
  open(5);
  auto done = call_http(http_event("POST", "/sessions/" + id + "/complete", {}, std::nullopt,
                                   {{"authorization", "Bearer " + token}}));
  EXPECT_EQ(status(done), 200);
  EXPECT_EQ(sessions.peek(id)->status, SessionStatus::completed);
  EXPECT_EQ(status(call_http(http_event("GET", "/upload-url", {{"sessionId", id}}))), 400);
}

}  // namespace
}  // namespace qr::testing
