// The typed fallback: POST /sessions gives a 6-digit shortCode, GET /c/{code} finds the session.
#include "core/validators.hpp"
#include "handlers/handlers.hpp"
#include "router_fixture.hpp"

namespace qr::testing {
namespace {

class ShortCode : public RouterTest {
 protected:
  json::object lookup(std::string code, json::object headers = {}) {
    return call_http(http_event("GET", "/c/" + code, {}, std::nullopt, std::move(headers)));
  }
  static json::object html() {
    return {{"accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}};
  }
  static std::string location(const json::object& r) {
    return std::string(r.at("headers").as_object().at("Location").as_string());
  }
  std::string code_of_new_session(std::string* id = nullptr) {
    auto r = call_http(http_event("POST", "/sessions"));
    EXPECT_EQ(status(r), 200);
    auto b = body(r);
    if (id) *id = std::string(b.at("sessionId").as_string());
    return std::string(b.at("shortCode").as_string());
  }
};

TEST(ShortCodeOf, IsTheIdsFirst32BitsModuloAMillionZeroPadded) {
  EXPECT_EQ(short_code_of("0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b"), "996460");
  EXPECT_EQ(short_code_of("000f4240-0000-4000-8000-000000000000"), "000000") << "10^6 exactly";
  EXPECT_EQ(short_code_of("00000007-0000-4000-8000-000000000000"), "000007");
  EXPECT_EQ(short_code_of("ffffffff-0000-4000-8000-000000000000"), "967295");
  EXPECT_EQ(short_code_of("FFFFFFFF-0000-4000-8000-000000000000"), "967295") << "either case";
}

TEST(IsShortCode, TakesExactlySixAsciiDigits) {
  EXPECT_TRUE(is_short_code("483921"));
  EXPECT_TRUE(is_short_code("000000"));
  for (const char* bad : {"", "48392", "4839211", "48392a", "483 92", "-48392", "４８３９２１"})
    EXPECT_FALSE(is_short_code(bad)) << bad;
}

TEST_F(ShortCode, CreateAnswersTheCodeOfItsIdAndTheStatusReadRepeatsIt) {
  std::string id;
  const std::string code = code_of_new_session(&id);
  EXPECT_EQ(code, short_code_of(id));
  auto r = call_http(http_event("GET", "/sessions/" + id));
  ASSERT_EQ(status(r), 200);
  EXPECT_EQ(body(r).at("shortCode").as_string(), code);
}

TEST_F(ShortCode, LookupFindsTheSessionWaitingForItsPhone) {
  std::string id;
  const std::string code = code_of_new_session(&id);
  auto r = lookup(code, {{"accept", "application/json"}});
  ASSERT_EQ(status(r), 200);
  EXPECT_EQ(body(r).at("sessionId").as_string(), id);
  EXPECT_EQ(body(r).at("expiresAt").as_int64(), clock.now_seconds() + 1800);
  EXPECT_TRUE(logged("short code resolved"));
}

TEST_F(ShortCode, ACodeLeadsNowhereOnceAPhoneHasClaimedTheSession) {
  std::string id;
  const std::string code = code_of_new_session(&id);
  request_upload(id);
  auto r = lookup(code);
  EXPECT_EQ(status(r), 404);
  EXPECT_EQ(error_of(r), "Code not found");
  EXPECT_TRUE(logged("short code not found"));
}

TEST_F(ShortCode, AnExpiredOrUnknownCodeIsNotFound) {
  const std::string code = code_of_new_session();
  const std::string other = code == "000000" ? "000001" : "000000";
  EXPECT_EQ(status(lookup(other)), 404);
  clock.advance(std::chrono::seconds(settings.session_ttl_seconds + 1));
  EXPECT_EQ(status(lookup(code)), 404);
}

TEST_F(ShortCode, AnythingButSixDigitsIsInvalid) {
  for (const char* bad : {"48392", "4839211", "48392a", "abcdef", "%34%38%33%39%32%31"}) {
    auto r = lookup(bad);
    EXPECT_EQ(status(r), 400) << bad;
    EXPECT_EQ(error_of(r), "Invalid code") << bad;
  }
  EXPECT_EQ(status(call_http(http_event("GET", "/c/"))), 400) << "no code at all";
  EXPECT_EQ(status(call_http(http_event("POST", "/c/123456"))), 405);
}

TEST_F(ShortCode, ABrowserIsSentToThePhonePageWhichExplainsAMiss) {
  settings.phone_page_url = "https://d111.cloudfront.net/phone.html";
  std::string id;
  const std::string code = code_of_new_session(&id);
  auto found = lookup(code, html());
  ASSERT_EQ(status(found), 302);
  EXPECT_EQ(location(found), "https://d111.cloudfront.net/phone.html?sessionId=" + id);
  const std::string other = code == "000000" ? "000001" : "000000";
  auto missed = lookup(other, html());
  ASSERT_EQ(status(missed), 302);
  EXPECT_EQ(location(missed), "https://d111.cloudfront.net/phone.html?code=" + other);
  auto invalid = lookup("12x", html());
  ASSERT_EQ(status(invalid), 302);
  EXPECT_EQ(location(invalid), "https://d111.cloudfront.net/phone.html?code=")
      << "what was typed is not echoed into the page's URL";
  // fetch() from the page asks for JSON and gets it.
  EXPECT_EQ(status(lookup(code, {{"accept", "application/json"}})), 200);
}

TEST_F(ShortCode, WithoutAPhonePageEvenABrowserGetsJson) {
  const std::string code = code_of_new_session();
  auto r = lookup(code, html());
  EXPECT_EQ(status(r), 200);
  EXPECT_FALSE(r.at("headers").as_object().contains("Location"));
}

TEST_F(ShortCode, CreateDrawsAnotherIdWhileALiveSessionHoldsTheCode) {
  // The id the next create draws (the token's 32 bytes come first), and a live session that
  // holds its code.
  CountingRandom predictor;
  (void)handlers::new_desktop_token(predictor);
  const std::string predicted = handlers::new_session_id(predictor);
  Session holder;
  holder.session_id = predicted.substr(0, 8) + "-0000-4000-8000-000000000000";
  holder.created_at = clock.now_seconds();
  holder.expires_at = clock.now_seconds() + 600;
  sessions.put(holder);

  std::string id;
  const std::string code = code_of_new_session(&id);
  EXPECT_NE(id, predicted);
  EXPECT_NE(code, short_code_of(holder.session_id));
  auto r = lookup(short_code_of(holder.session_id));
  ASSERT_EQ(status(r), 200);
  EXPECT_EQ(body(r).at("sessionId").as_string(), holder.session_id) << "the holder keeps its code";
}

TEST_F(ShortCode, CreateGivesUpAfterEightTakenCodesAndTheStoreErrorIsA500) {
  for (int i = 0; i < 7; ++i) sessions.faults.push(ErrorCode::condition_failed, "taken");
  EXPECT_EQ(status(call_http(http_event("POST", "/sessions"))), 200) << "the 8th draw is free";
  for (int i = 0; i < 8; ++i) sessions.faults.push(ErrorCode::condition_failed, "taken");
  EXPECT_EQ(status(call_http(http_event("POST", "/sessions"))), 500);
  sessions.faults.push(ErrorCode::unavailable, "DynamoDB is down");
  EXPECT_EQ(status(lookup("123456")), 500);
}

}  // namespace
}  // namespace qr::testing
