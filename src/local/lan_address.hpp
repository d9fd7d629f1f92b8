#pragma once
// Which address of this machine a phone on the same Wi-Fi can most likely reach, for the URL in
// the QR code. The choice is a pure function over a list of interfaces, so it is tested with
// made-up lists; system_interfaces() reads the real one.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace qr::local {

/// One IPv4 address of a network interface.
struct InterfaceAddress {
  std::string interface;  ///< e.g. "wlan0", "docker0"
  std::string address;    ///< dotted quad
  bool up = true;
  bool loopback = false;
};

/// The IPv4 addresses of this machine's interfaces (getifaddrs); empty if it cannot be read.
std::vector<InterfaceAddress> system_interfaces();

/// The likeliest LAN address: an interface that is up and not loopback, preferring a private
/// range (10/8, 172.16/12, 192.168/16) and then an interface that is not a container bridge, VPN
/// or tunnel; the first of equals wins. nullopt when no address qualifies.
std::optional<std::string> pick_lan_address(std::span<const InterfaceAddress> interfaces);

/// The base URL for the QR code: "http://HOST:PORT" where HOST is the bind address, or, for a
/// wildcard bind (0.0.0.0, ::, empty), the picked LAN address (127.0.0.1 when there is none).
/// IPv6 hosts are bracketed.
std::string default_public_url(const std::string& bind_address, std::uint16_t port,
                               std::span<const InterfaceAddress> interfaces);

}  // namespace qr::local
