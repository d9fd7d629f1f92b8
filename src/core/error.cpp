#include "core/error.hpp"

namespace qr {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::not_found:
      return "not_found";
    case ErrorCode::already_exists:
      return "already_exists";
    case ErrorCode::condition_failed:
      return "condition_failed";
    case ErrorCode::invalid_input:
      return "invalid_input";
    case ErrorCode::throttled:
      return "throttled";
    case ErrorCode::unavailable:
      return "unavailable";
    case ErrorCode::gone:
      return "gone";
    case ErrorCode::forbidden:
      return "forbidden";
    case ErrorCode::internal:
      return "internal";
  }
  return "internal";
}

}  // namespace qr
