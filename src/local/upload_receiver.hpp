#pragma once
// PUT /objects/<key>: the signed upload. Checked before a byte of the body is read, then streamed
// to a temporary file in constant memory (64 KiB reads), renamed into place only when complete,
// then announced as S3 would announce it; the router's check decides what the PUT answers.

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "local/http_messages.hpp"
#include "local/shared_state.hpp"
#include "local/stream.hpp"

namespace qr::local {

class UploadReceiver final : public std::enable_shared_from_this<UploadReceiver> {
 public:
  /// Called once: the answer to send (nullopt: the client went away, close without one).
  using Done = std::function<void(std::optional<StringResponse> answer)>;

  /// Takes over the parser whose header was read; reads from `stream` and `buffer`, which the
  /// caller owns and keeps alive until `done` runs.
  UploadReceiver(Stream& stream, boost::beast::flat_buffer& buffer,
                 boost::beast::http::request_parser<boost::beast::http::empty_body>&& header,
                 std::shared_ptr<SharedState> state);

  /// Checks key, signature and declared length, then receives the body.
  void start(Done done);

 private:
  void read_some();
  void finish();
  void discard();
  void cut_off();
  void answer(StringResponse response);
  void abort();

  Stream& stream_;
  boost::beast::flat_buffer& buffer_;
  boost::beast::http::request_parser<boost::beast::http::file_body> parser_;
  std::shared_ptr<SharedState> state_;
  Done done_;
  std::string key_;
  std::filesystem::path temp_;
  std::chrono::steady_clock::time_point started_{};  // the first read of the body
  std::uint64_t received_ = 0;                       // bytes of it so far
  boost::asio::steady_timer cutoff_;                 // when it is too slow or too long
  bool cut_ = false;
};

}  // namespace qr::local
