// The address the QR code carries, chosen from made-up interface lists.
#include <gtest/gtest.h>

#include <vector>

#include "local/lan_address.hpp"

namespace qr::local {
namespace {

using List = std::vector<InterfaceAddress>;

TEST(LanAddress, PrefersAPrivateAddressOnAPhysicalInterface) {
  const List list{{"lo", "127.0.0.1", true, true},
                  {"docker0", "172.17.0.1", true, false},
                  {"eth0", "203.0.113.7", true, false},
                  {"wlan0", "192.168.1.23", true, false},
                  {"tailscale0", "100.64.0.5", true, false}};
  EXPECT_EQ(pick_lan_address(list), "192.168.1.23");
}

TEST(LanAddress, APrivateBridgeBeatsAPublicAddressButNotAPrivatePhysicalOne) {
  EXPECT_EQ(pick_lan_address(List{{"eth0", "203.0.113.7"}, {"docker0", "172.17.0.1"}}),
            "172.17.0.1");
  EXPECT_EQ(pick_lan_address(List{{"br-1234", "10.0.0.1"}, {"enp3s0", "10.1.2.3"}}), "10.1.2.3");
  EXPECT_EQ(pick_lan_address(List{{"wg0", "10.8.0.2"}, {"eth0", "172.20.1.9"}}), "172.20.1.9");
}

TEST(LanAddress, SkipsLoopbackDownAndUnparsableAddresses) {
  EXPECT_EQ(pick_lan_address(List{{"lo", "127.0.0.1", true, true}}), std::nullopt);
  EXPECT_EQ(pick_lan_address(List{{"wlan0", "192.168.0.2", false, false}}), std::nullopt);
  EXPECT_EQ(pick_lan_address(List{{"eth0", "not-an-ip"}}), std::nullopt);
  EXPECT_EQ(pick_lan_address(List{}), std::nullopt);
}

TEST(LanAddress, TheFirstOfEqualsWins) {
  EXPECT_EQ(pick_lan_address(List{{"eth0", "192.168.1.2"}, {"wlan0", "192.168.1.3"}}),
            "192.168.1.2");
}

TEST(LanAddress, PrivateRangesAreExactlyTheRfc1918Ones) {
  // 172.15 and 172.32 are outside 172.16/12; 192.169 outside 192.168/16.
  EXPECT_EQ(pick_lan_address(List{{"veth0", "172.16.0.1"}, {"eth0", "172.32.0.1"}}), "172.16.0.1");
  EXPECT_EQ(pick_lan_address(List{{"veth0", "172.31.255.1"}, {"eth0", "172.15.0.1"}}),
            "172.31.255.1");
  EXPECT_EQ(pick_lan_address(List{{"eth0", "192.169.0.1"}, {"tun0", "192.168.0.1"}}),
            "192.168.0.1");
}

TEST(LanAddress, DefaultPublicUrlUsesTheBindAddressUnlessItIsAWildcard) {
  const List list{{"wlan0", "192.168.1.23"}};
  EXPECT_EQ(default_public_url("0.0.0.0", 8080, list), "http://192.168.1.23:8080");
  EXPECT_EQ(default_public_url("::", 80, list), "http://192.168.1.23:80");
  EXPECT_EQ(default_public_url("", 1, list), "http://192.168.1.23:1");
  EXPECT_EQ(default_public_url("127.0.0.1", 9000, list), "http://127.0.0.1:9000");
  EXPECT_EQ(default_public_url("::1", 9000, list), "http://[::1]:9000");
  EXPECT_EQ(default_public_url("0.0.0.0", 8080, List{}), "http://127.0.0.1:8080");
}

}  // namespace
}  // namespace qr::local
