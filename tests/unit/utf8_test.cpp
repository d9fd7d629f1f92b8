// core/utf8: the one UTF-8 decoder (file names, log lines).
#include <gtest/gtest.h>

#include "core/utf8.hpp"

namespace qr {
namespace {

TEST(Utf8, MeasuresEachWellFormedSequenceAndReadsItsCodePoint) {
  for (const auto& [bytes, code] : std::vector<std::pair<std::string, char32_t>>{
           {"A", U'A'},
           {"\xC3\xA9", U'\u00E9'},
           {"\xE2\x82\xAC", U'\u20AC'},
           {"\xED\x9F\xBF", U'\uD7FF'},  // the last before the surrogates
           {"\xEE\x80\x80", U'\uE000'},  // the first after them
           {"\xF0\x9F\x93\xB7", U'\U0001F4F7'},
           {"\xF4\x8F\xBF\xBF", U'\U0010FFFF'}}) {
    ASSERT_EQ(utf8_sequence_length(bytes + "rest"), bytes.size()) << bytes;
    EXPECT_EQ(utf8_code_point(bytes), code) << bytes;
  }
}

TEST(Utf8, RefusesWhatRfc3629Forbids) {
  for (const char* bad : {"",                  // nothing
                          "\x80",              // a stray continuation byte
                          "\xC0\xAF",          // overlong '/'
                          "\xC1\xBF",          // overlong
                          "\xE0\x9F\xBF",      // overlong 3-byte
                          "\xED\xA0\x80",      // a surrogate
                          "\xF0\x8F\xBF\xBF",  // overlong 4-byte
                          "\xF4\x90\x80\x80",  // past U+10FFFF
                          "\xF5\x80\x80\x80",  // no such lead byte
                          "\xE2\x82",          // truncated
                          "\xE2\x28\xA1"})     // a continuation that is not one
    EXPECT_EQ(utf8_sequence_length(bad), 0u) << ::testing::PrintToString(std::string(bad));
}

}  // namespace
}  // namespace qr
