#include "local/upload_receiver.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "local/local_events.hpp"

namespace qr::local {
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;

namespace {
constexpr std::string_view out_of_space =
    "Upload refused: this computer is out of space for photos. Free some space on it and send "
    "again.";
}  // namespace

UploadReceiver::UploadReceiver(Stream& stream, beast::flat_buffer& buffer,
                               http::request_parser<http::empty_body>&& header,
                               std::shared_ptr<SharedState> state)
    : stream_(stream),
      buffer_(buffer),
      parser_(std::move(header)),
      state_(std::move(state)),
      cutoff_(stream.get_executor()) {}

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
  // Out of room (the photo quota, or the disk's free-space floor): refused before a byte is
  // written, so a full disk never cuts an upload off half-way without a word.
  if (auto room = state_->objects->check_space(parser_.content_length().value_or(max)); !room) {
    state_->log.warn("upload refused: out of space",
                     {{"key", key_}, {"error", room.error().detail}});
    return answer(error_json(507, out_of_space, v, false));
  }

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
  // An empty body (Content-Length: 0) is complete with its header: nothing to wait for.
  if (parser_.is_done()) return finish();
  // A deadline per read: a silent phone (walked away, lost signal) is cut off after the idle
  // timeout. And per upload: past its first idle timeout it must average min_upload_rate, and it
  // may take upload_deadline_seconds in all, so one byte every few seconds cannot hold a
  // connection and a file open for hours.
  using namespace std::chrono;
  const auto& o = state_->options;
  const auto now = steady_clock::now();
  if (started_ == steady_clock::time_point{}) started_ = now;
  const auto grace = seconds(o.idle_timeout_seconds);
  auto until = std::min(now + grace, started_ + seconds(o.upload_deadline_seconds));
  if (o.min_upload_rate > 0) {
    // When the average would fall below the minimum if nothing more came.
    const auto earned = duration_cast<steady_clock::duration>(
        duration<double>(static_cast<double>(received_) / static_cast<double>(o.min_upload_rate)));
    until = std::min(until, started_ + std::max<steady_clock::duration>(grace, earned));
  }
  if (until <= now) return cut_off();
  // The stream's own timeout closes the socket, which would lose the answer: a timer of ours
  // cancels the read instead, and the stream's is only a backstop.
  stream_.tcp().expires_at(until + seconds(5));
  cutoff_.expires_at(until);
  cutoff_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec) return;
    self->cut_ = true;
    beast::error_code ignored;
    self->stream_.tcp().socket().cancel(ignored);
  });
  http::async_read_some(stream_, buffer_, parser_,
                        [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                          self->received_ += n;
                          self->cutoff_.cancel();
                          if (self->cut_) return self->cut_off();
                          if (ec == http::error::body_limit) {
                            self->discard();
                            return self->answer(error_json(413, "File too large", 11, false));
                          }
                          if (ec == boost::system::errc::no_space_on_device ||
                              ec == boost::system::errc::file_too_large) {
                            self->discard();
                            self->state_->log.error("upload cut off: disk full",
                                                    {{"key", self->key_}, {"error", ec.message()}});
                            return self->answer(error_json(507, out_of_space, 11, false));
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

// Too slow, stalled, or past its deadline: answered 408 and nothing of it is kept.
void UploadReceiver::cut_off() {
  discard();
  state_->log.warn("upload cut off: too slow", {{"key", key_}, {"bytes", received_}});
  answer(error_json(408, "Upload too slow", 11, false));
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
