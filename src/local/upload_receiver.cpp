#include "local/upload_receiver.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "local/local_events.hpp"

namespace qr::local {
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;

UploadReceiver::UploadReceiver(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                               http::request_parser<http::empty_body>&& header,
                               std::shared_ptr<SharedState> state)
    : stream_(stream), buffer_(buffer), parser_(std::move(header)), state_(std::move(state)) {}

void UploadReceiver::start(Done done) {
  done_ = std::move(done);
  const auto& req = parser_.get();
  const unsigned v = req.version();
  const auto request = signable_request(req.method_string(), req.target(), fields_of(req));
  key_ = request.path.substr(DiskObjectStore::url_prefix.size());
  // Until the body is read the connection cannot be reused, so refusals close it.
  if (!state_->objects->path_for(key_)) return answer(error_json(400, "Invalid key", v, false));
  if (auto ok = state_->objects->verify(request); !ok)
    return answer(error_json(403, "Forbidden: " + ok.error().detail, v, false));
  const auto max = state_->options.max_upload_bytes;
  if (auto length = parser_.content_length(); length && *length > max)
    return answer(error_json(413, "File too large", v, false));

  // Room for 64 KiB reads: Beast sizes each read by the buffer's free capacity, and the buffer
  // left by the header would make a 20 MB upload 40,000 reads and writes of 512 bytes.
  buffer_.reserve(64 * 1024);
  parser_.body_limit(max);
  temp_ = state_->objects->temp_path();
  beast::error_code ec;
  parser_.get().body().open(temp_.c_str(), beast::file_mode::write_new, ec);
  if (ec) {
    state_->log.error("cannot open upload file",
                      {{"path", temp_.string()}, {"error", ec.message()}});
    return answer(error_json(500, "Internal server error", v, false));
  }
  if (beast::iequals(req[http::field::expect], "100-continue")) {
    auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, v);
    http::async_write(stream_, *cont,
                      [self = shared_from_this(), cont](beast::error_code write_ec, std::size_t) {
                        if (write_ec) return self->abort();
                        self->read_some();
                      });
    return;
  }
  read_some();
}

void UploadReceiver::read_some() {
  // A deadline per read, not per upload: a slow phone keeps going, a silent one (walked away,
  // lost signal) is cut off after the idle timeout.
  stream_.expires_after(std::chrono::seconds(state_->options.idle_timeout_seconds));
  http::async_read_some(stream_, buffer_, parser_,
                        [self = shared_from_this()](beast::error_code ec, std::size_t) {
                          if (ec == http::error::body_limit) {
                            self->discard();
                            return self->answer(error_json(413, "File too large", 11, false));
                          }
                          if (ec) return self->abort();
                          if (!self->parser_.is_done()) return self->read_some();
                          self->finish();
                        });
}

void UploadReceiver::finish() {
  auto& req = parser_.get();
  req.body().close();
  std::error_code size_ec;
  const auto size = fs::file_size(temp_, size_ec);
  if (size_ec) {
    discard();
    state_->log.error("cannot read upload size", {{"key", key_}, {"error", size_ec.message()}});
    return answer(error_json(500, "Internal server error", req.version(), false));
  }
  const auto verdict = state_->store_upload(temp_, key_, size);
  answer(json_response(verdict.status, verdict.body, req.version(), req.keep_alive()));
}

// Drops what was received so far; nothing of it ever becomes an object.
void UploadReceiver::discard() {
  parser_.get().body().close();
  std::error_code ec;
  if (!temp_.empty()) fs::remove(temp_, ec);
}

void UploadReceiver::answer(StringResponse response) {
  if (auto done = std::exchange(done_, nullptr)) done(std::move(response));
}

void UploadReceiver::abort() {
  discard();
  if (auto done = std::exchange(done_, nullptr)) done(std::nullopt);
}

}  // namespace qr::local
