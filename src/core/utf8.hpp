#pragma once
// UTF-8 as RFC 3629 defines it: shortest forms only, no surrogates, nothing past U+10FFFF. Used
// where bytes a client sent must become text (file names, log lines).

#include <cstddef>
#include <string_view>

namespace qr {

/// The length (1 to 4) of the well-formed UTF-8 sequence at the start of `s`, or 0 if there is
/// none (an empty `s`, a stray continuation byte, an overlong form, a surrogate, a truncation).
std::size_t utf8_sequence_length(std::string_view s);

/// The scalar value of `sequence`, one well-formed sequence as utf8_sequence_length measured it.
char32_t utf8_code_point(std::string_view sequence);

}  // namespace qr
