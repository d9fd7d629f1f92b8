#include <gtest/gtest.h>

#include "core/validators.hpp"

namespace qr {
namespace {

TEST(Validators, UuidFormat) {
  EXPECT_TRUE(is_uuid("0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b"));
  EXPECT_TRUE(is_uuid("0F8E7D6C-5B4A-4938-8271-605F4E3D2C1B"));
  EXPECT_FALSE(is_uuid("0f8e7d6c5b4a49388271605f4e3d2c1b"));
  EXPECT_FALSE(is_uuid("0f8e7d6c-5b4a-4938-8271-605f4e3d2c1"));
  EXPECT_FALSE(is_uuid("0f8e7d6c-5b4a-4938-8271-605f4e3d2c1g"));
  EXPECT_FALSE(is_uuid(""));
}

TEST(Validators, SessionIdMessagesAndStatusesFollowTheSpec) {
  EXPECT_EQ(validate_session_id(std::nullopt)->status, 400);
  EXPECT_EQ(validate_session_id(std::nullopt)->message, "sessionId is required");
  EXPECT_EQ(validate_session_id("")->status, 400);
  EXPECT_EQ(validate_session_id("x")->status, 404);
  EXPECT_EQ(validate_session_id("x")->message, "Invalid sessionId format");
  EXPECT_FALSE(validate_session_id("0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b"));
}

TEST(Validators, SessionState) {
  Session s;
  s.expires_at = 100;
  EXPECT_EQ(validate_session(std::nullopt, 0, CompletedSessions::rejected)->message,
            "Session not found");
  EXPECT_FALSE(validate_session(s, 100, CompletedSessions::rejected)) << "expiry is strictly after";
  EXPECT_EQ(validate_session(s, 101, CompletedSessions::rejected)->message, "Session expired");
  s.status = SessionStatus::completed;
  EXPECT_EQ(validate_session(s, 0, CompletedSessions::rejected)->message,
            "Session already completed");
  EXPECT_FALSE(validate_session(s, 0, CompletedSessions::allowed));
}

TEST(Validators, Uuid4HasVersionAndVariantBits) {
  unsigned char bytes[16];
  for (int i = 0; i < 16; ++i) bytes[i] = 0xff;
  const auto id = make_uuid4(bytes);
  EXPECT_TRUE(is_uuid(id));
  EXPECT_EQ(id[14], '4');
  EXPECT_EQ(id[19], 'b');
}

}  // namespace
}  // namespace qr
