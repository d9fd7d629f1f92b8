// Log lines are valid UTF-8 whatever bytes a request carried into them.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <string>
#include <vector>

#include "core/log.hpp"

namespace qr {
namespace {

// True when `s` is well-formed UTF-8 (RFC 3629).
bool well_formed(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = b < 0x80                 ? 1
                    : b >= 0xc2 && b <= 0xdf ? 2
                    : b >= 0xe0 && b <= 0xef ? 3
                    : b >= 0xf0 && b <= 0xf4 ? 4
                                             : 0;
    if (n == 0 || i + n > s.size()) return false;
    std::uint32_t cp = n == 1 ? b : n == 2 ? b & 0x1f : n == 3 ? b & 0x0f : b & 0x07;
    for (std::size_t k = 1; k < n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3f);
    }
    const std::uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n;
  }
  return true;
}

std::vector<std::string> lines_for(std::string_view value) {
  std::vector<std::string> lines;
  Logger log([&](std::string_view line) { lines.emplace_back(line); });
  log.set_request_id(std::string(value));
  log.warn(value, {{"key", value}, {"nested", {{"header", value}}}});
  log.metric(value, 1);
  return lines;
}

TEST(LogUtf8, IllFormedBytesBecomeReplacementCharactersAndTheLineStaysJson) {
  for (const std::string bad :
       {std::string("session-uploads/x/\xFF.png"), std::string("\xC0\xAF"),  // overlong '/'
        std::string("\xED\xA0\x80"),                                         // a surrogate
        std::string("\xF4\x90\x80\x80"),                                     // past U+10FFFF
        std::string("cut \xE2\x82"), std::string("\x80\x80\x80"), std::string("\xFE\xFF")}) {
    for (const auto& line : lines_for(bad)) {
      EXPECT_TRUE(well_formed(line)) << line;
      boost::system::error_code ec;
      boost::json::parse(line, ec);
      EXPECT_FALSE(ec) << line;
      EXPECT_NE(line.find("\xEF\xBF\xBD"), std::string::npos) << line;
    }
  }
}

TEST(LogUtf8, WellFormedTextIsKeptAsItIs) {
  const std::string text = "IMG_4821 \xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\xB7";
  for (const auto& line : lines_for(text)) {
    EXPECT_NE(line.find(text), std::string::npos) << line;
    EXPECT_EQ(line.find("\xEF\xBF\xBD"), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace qr
