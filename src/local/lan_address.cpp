#include "local/lan_address.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <string_view>

namespace qr::local {
namespace {

// Higher is likelier: 2 for a private range, 1 for an interface that looks physical.
int lan_score(const InterfaceAddress& candidate) {
  in_addr parsed{};
  if (inet_pton(AF_INET, candidate.address.c_str(), &parsed) != 1) return -1;
  const std::uint32_t ip = ntohl(parsed.s_addr);
  const bool private_range = (ip >> 24) == 10 || (ip >> 20) == 0xAC1 || (ip >> 16) == 0xC0A8;
  bool virtual_interface = false;
  for (std::string_view prefix : {"docker", "br-", "veth", "virbr", "lxc", "cni", "flannel", "tun",
                                  "tap", "wg", "zt", "tailscale", "vmnet", "vboxnet"})
    if (candidate.interface.starts_with(prefix)) virtual_interface = true;
  return (private_range ? 2 : 0) + (virtual_interface ? 0 : 1);
}

}  // namespace

std::vector<InterfaceAddress> system_interfaces() {
  std::vector<InterfaceAddress> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (const ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN];
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    if (!inet_ntop(AF_INET, &in->sin_addr, text, sizeof text)) continue;
    out.push_back({a->ifa_name ? a->ifa_name : "", text, (a->ifa_flags & IFF_UP) != 0,
                   (a->ifa_flags & IFF_LOOPBACK) != 0});
  }
  freeifaddrs(list);
  return out;
}

std::optional<std::string> pick_lan_address(std::span<const InterfaceAddress> interfaces) {
  const InterfaceAddress* best = nullptr;
  int best_score = -1;
  for (const auto& candidate : interfaces) {
    if (!candidate.up || candidate.loopback) continue;
    if (const int score = lan_score(candidate); score > best_score) {
      best_score = score;
      best = &candidate;
    }
  }
  if (!best) return std::nullopt;
  return best->address;
}

std::string default_public_url(const std::string& bind_address, std::uint16_t port,
                               std::span<const InterfaceAddress> interfaces) {
  std::string host = bind_address;
  if (bind_address.empty() || bind_address == "0.0.0.0" || bind_address == "::")
    host = pick_lan_address(interfaces).value_or("127.0.0.1");
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(port);
}

}  // namespace qr::local
