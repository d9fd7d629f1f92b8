#include <gtest/gtest.h>

#include "local/hub_notifier.hpp"

namespace qr::local {
namespace {

struct Recorder final : HubConnection {
  std::vector<std::string> got;
  void send_text(std::string m) override { got.push_back(std::move(m)); }
};

TEST(HubNotifier, DeliversToRegisteredConnectionsAndSaysGoneOtherwise) {
  HubNotifier hub;
  auto a = std::make_shared<Recorder>();
  hub.add("a", a);
  ASSERT_TRUE(hub.send("a", "hello"));
  EXPECT_EQ(a->got, std::vector<std::string>{"hello"});
  auto missing = hub.send("b", "x");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::gone);
  hub.remove("a");
  EXPECT_EQ(hub.send("a", "x").error().code, ErrorCode::gone);
}

TEST(HubNotifier, ADestroyedConnectionIsGone) {
  HubNotifier hub;
  {
    auto a = std::make_shared<Recorder>();
    hub.add("a", a);
  }
  EXPECT_EQ(hub.send("a", "x").error().code, ErrorCode::gone);
}

}  // namespace
}  // namespace qr::local
