#include "core/s3_key.hpp"
#include "core/ascii.hpp"

#include "core/constants.hpp"
#include "core/validators.hpp"

namespace qr {
std::string make_upload_key(std::string_view session_id, std::int64_t millis,
                            std::string_view nonce, std::string_view extension) {
  std::string key(constants::upload_prefix);
  key.append(session_id).append("/image-").append(std::to_string(millis));
  if (!nonce.empty()) key.append("-").append(nonce);
  key.append(extension);
  return key;
}

std::optional<std::string> decode_event_key(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (std::size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= key.size()) return std::nullopt;
      const int hi = ascii::hex_value(key[i + 1]);
      const int lo = ascii::hex_value(key[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> session_id_from_key(std::string_view key) {
  if (!key.starts_with(constants::upload_prefix)) return std::nullopt;
  key.remove_prefix(constants::upload_prefix.size());
  const auto slash = key.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view id = key.substr(0, slash);
  const std::string_view file = key.substr(slash + 1);
  if (!is_uuid(id) || file.empty() || file.find('/') != std::string_view::npos) return std::nullopt;
  return std::string(id);
}

}  // namespace qr
