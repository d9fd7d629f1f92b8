#pragma once
// Errors cross every port as values: std::expected<T, Error>, never exceptions.

#include <expected>
#include <string>
#include <utility>

namespace qr {

/// What went wrong, in terms a caller can act on.
enum class ErrorCode {
  not_found,         ///< the thing asked for does not exist
  already_exists,    ///< a create found the key taken
  condition_failed,  ///< a conditional write found a different current state
  invalid_input,     ///< the caller sent something unusable
  throttled,         ///< the backend asked us to slow down (after retries)
  unavailable,       ///< a transient backend failure (after retries)
  gone,              ///< a WebSocket connection no longer exists
  forbidden,         ///< a signature or token did not verify
  internal,          ///< anything else
};

/// A failure with a code for control flow and a detail for the log (never for clients).
struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string detail;
};

template <class T>
using Result = std::expected<T, Error>;

/// Shorthand for returning a failure from a function whose result is Result<T>.
inline std::unexpected<Error> fail(ErrorCode code, std::string detail) {
  return std::unexpected(Error{code, std::move(detail)});
}

/// Stable name of an error code, for logs.
const char* to_string(ErrorCode code);

}  // namespace qr
