#include <gtest/gtest.h>

#include "core/session.hpp"

namespace qr {
namespace {

TEST(SessionStatus, NamesRoundTrip) {
  for (auto s :
       {SessionStatus::awaiting_scan, SessionStatus::upload_requested, SessionStatus::completed})
    EXPECT_EQ(parse_session_status(to_string(s)), s);
  EXPECT_EQ(parse_session_status("completed"), std::nullopt);
}

TEST(SessionStatus, TransitionTableIsTheSpecsStateMachine) {
  using S = SessionStatus;
  EXPECT_TRUE(transition_allowed(S::awaiting_scan, S::upload_requested));
  EXPECT_TRUE(transition_allowed(S::upload_requested, S::upload_requested));
  EXPECT_TRUE(transition_allowed(S::upload_requested, S::completed));
  EXPECT_FALSE(transition_allowed(S::completed, S::upload_requested));
  // The desktop may end a session before any photo (POST /sessions/{id}/complete).
  EXPECT_TRUE(transition_allowed(S::awaiting_scan, S::completed));
  EXPECT_FALSE(transition_allowed(S::completed, S::completed));
  EXPECT_FALSE(transition_allowed(S::upload_requested, S::awaiting_scan));
}

}  // namespace
}  // namespace qr
