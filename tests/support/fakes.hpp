#pragma once
// In-memory fakes of every port, with fault injection, for handler and router tests.

#include <chrono>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "ports/clock.hpp"
#include "ports/notifier.hpp"
#include "ports/object_store.hpp"
#include "ports/random.hpp"
#include "ports/session_store.hpp"

namespace qr::testing {

/// Queue of errors to return from the next calls of a fake, in order.
class FaultQueue {
 public:
  void push(ErrorCode code, std::string detail = "injected") {
    queue_.push_back({code, std::move(detail)});
  }
  std::optional<Error> pop() {
    if (queue_.empty()) return std::nullopt;
    Error e = queue_.front();
    queue_.pop_front();
    return e;
  }

 private:
  std::deque<Error> queue_;
};

/// SessionStore on a std::map; conditions evaluated with the shared condition_holds().
class FakeSessionStore final : public SessionStore {
 public:
  Result<void> save(const Session& session) override {
    std::lock_guard lock(mutex_);
    if (auto e = faults.pop()) return std::unexpected(*e);
    if (sessions_.contains(session.session_id))
      return fail(ErrorCode::already_exists, session.session_id);
    if (live_with_code(short_code_of(session.session_id), session.created_at))
      return fail(ErrorCode::condition_failed, "short code taken: " + session.session_id);
    sessions_[session.session_id] = session;
    by_code_[short_code_of(session.session_id)] = session.session_id;
    return {};
  }
  Result<std::optional<Session>> find_by_short_code(std::string_view code,
                                                    std::int64_t now) override {
    std::lock_guard lock(mutex_);
    if (auto e = faults.pop()) return std::unexpected(*e);
    return live_with_code(code, now);
  }
  Result<std::optional<Session>> get(std::string_view id) override {
    return get(id, Consistency::strong);
  }
  Result<std::optional<Session>> get(std::string_view id, Consistency consistency) override {
    std::lock_guard lock(mutex_);
    reads.push_back(consistency);
    if (auto e = faults.pop()) return std::unexpected(*e);
    // An eventually consistent read may not see a session written a moment ago.
    if (consistency == Consistency::eventual && not_yet_replicated.contains(std::string(id)))
      return std::optional<Session>{};
    auto it = sessions_.find(std::string(id));
    if (it == sessions_.end()) return std::optional<Session>{};
    return std::optional<Session>{it->second};
  }
  Result<Session> update(std::string_view id, const SessionUpdate& changes,
                         const UpdateCondition& condition) override {
    std::lock_guard lock(mutex_);
    if (auto e = faults.pop()) return std::unexpected(*e);
    auto it = sessions_.find(std::string(id));
    if (it == sessions_.end()) return fail(ErrorCode::not_found, std::string(id));
    if (!condition_holds(it->second, condition))
      return fail(ErrorCode::condition_failed, std::string(id));
    apply_update(it->second, changes);
    ++writes;
    return it->second;
  }
  Result<std::optional<Session>> find_by_connection(std::string_view connection_id) override {
    std::lock_guard lock(mutex_);
    if (auto e = faults.pop()) return std::unexpected(*e);
    for (const auto& [id, s] : sessions_)
      if (s.ws_connection_id && *s.ws_connection_id == connection_id)
        return std::optional<Session>{s};
    return std::optional<Session>{};
  }

  /// Direct access for test setup and assertions.
  std::optional<Session> peek(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(id);
    return it == sessions_.end() ? std::nullopt : std::optional<Session>{it->second};
  }
  void put(const Session& s) {
    std::lock_guard lock(mutex_);
    sessions_[s.session_id] = s;
    by_code_[short_code_of(s.session_id)] = s.session_id;
  }
  std::size_t size() {
    std::lock_guard lock(mutex_);
    return sessions_.size();
  }

  FaultQueue faults;
  int writes = 0;
  /// The consistency of every get(), in order.
  std::vector<Consistency> reads;
  /// Sessions an eventually consistent read does not see yet (as if just written).
  std::set<std::string> not_yet_replicated;

 private:
  // The session that last took each code (an index, so a benchmark's growing map stays fast).
  std::optional<Session> live_with_code(std::string_view code, std::int64_t now) const {
    auto holder = by_code_.find(code);
    if (holder == by_code_.end()) return std::nullopt;
    auto it = sessions_.find(holder->second);
    if (it == sessions_.end() || it->second.expires_at <= now) return std::nullopt;
    return it->second;
  }
  std::map<std::string, std::string, std::less<>> by_code_;

  std::mutex mutex_;
  std::map<std::string, Session, std::less<>> sessions_;
};

/// ObjectStore on a map of key -> bytes; URLs are recognisable fakes.
class FakeObjectStore final : public ObjectStore {
 public:
  struct Object {
    std::string bytes;
    std::string content_type;
  };

  Result<PresignedRequest> presign_put(std::string_view key, std::string_view content_type,
                                       std::optional<std::uint64_t> content_length,
                                       std::chrono::seconds expires_in) override {
    if (auto e = presign_faults.pop()) return std::unexpected(*e);
    PresignedRequest r;
    r.method = "PUT";
    r.url = "https://fake-bucket.example/" + std::string(key) +
            "?expires=" + std::to_string(expires_in.count());
    r.headers["Content-Type"] = std::string(content_type);
    if (content_length) r.headers["Content-Length"] = std::to_string(*content_length);
    return r;
  }
  Result<std::string> presign_get(std::string_view key, std::chrono::seconds expires_in,
                                  std::string_view download_name) override {
    if (auto e = presign_faults.pop()) return std::unexpected(*e);
    std::string url = "https://fake-bucket.example/" + std::string(key) +
                      "?get&expires=" + std::to_string(expires_in.count());
    if (!download_name.empty()) url += "&name=" + std::string(download_name);
    return url;
  }
  Result<std::optional<ObjectInfo>> inspect(std::string_view key, std::size_t head_bytes) override {
    if (auto e = inspect_faults.pop()) return std::unexpected(*e);
    auto it = objects.find(std::string(key));
    if (it == objects.end()) return std::optional<ObjectInfo>{};
    ObjectInfo info;
    info.size = it->second.bytes.size();
    info.content_type = it->second.content_type;
    info.head = it->second.bytes.substr(0, head_bytes);
    return std::optional<ObjectInfo>{info};
  }
  Result<void> remove(std::string_view key) override {
    if (auto e = remove_faults.pop()) return std::unexpected(*e);
    objects.erase(std::string(key));
    ++removals;
    return {};
  }

  std::optional<std::string> preview_url(std::string_view key, std::chrono::seconds) override {
    if (!previews.contains(std::string(key))) return std::nullopt;
    return "https://fake-bucket.example/" + std::string(key) + ".preview.jpg";
  }

  std::map<std::string, Object> objects;
  std::set<std::string> previews;  ///< keys that have a preview
  FaultQueue presign_faults, inspect_faults, remove_faults;
  int removals = 0;
};

/// Notifier that records what it was asked to send.
class FakeNotifier final : public Notifier {
 public:
  Result<void> send(std::string_view connection_id, std::string_view message) override {
    if (gone.contains(std::string(connection_id))) return fail(ErrorCode::gone, "410");
    if (auto e = faults.pop()) return std::unexpected(*e);
    sent.push_back({std::string(connection_id), std::string(message)});
    return {};
  }
  struct Sent {
    std::string connection_id;
    std::string message;
  };
  std::vector<Sent> sent;
  std::set<std::string> gone;
  FaultQueue faults;
};

/// A clock that only moves when told.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t epoch_seconds = 1'700'000'000)
      : now_(std::chrono::system_clock::time_point(std::chrono::seconds(epoch_seconds))) {}
  std::chrono::system_clock::time_point now() override { return now_; }
  void advance(std::chrono::milliseconds by) { now_ += by; }

 private:
  std::chrono::system_clock::time_point now_;
};

/// A SessionStore whose every call throws, for the routers' catch-all (a 500, never a crash).
class ThrowingSessionStore final : public SessionStore {
 public:
  Result<void> save(const Session&) override { throw std::runtime_error("boom"); }
  Result<std::optional<Session>> get(std::string_view) override {
    throw std::runtime_error("boom");
  }
  Result<Session> update(std::string_view, const SessionUpdate&, const UpdateCondition&) override {
    throw std::runtime_error("boom");
  }
  Result<std::optional<Session>> find_by_connection(std::string_view) override {
    throw std::runtime_error("boom");
  }
  Result<std::optional<Session>> find_by_short_code(std::string_view, std::int64_t) override {
    throw std::runtime_error("boom");
  }
};

/// Deterministic bytes (a counter), so tests can predict ids. Never used outside tests.
class CountingRandom final : public Random {
 public:
  void fill(std::span<std::byte> out) override {
    for (auto& b : out) b = static_cast<std::byte>(counter_++ * 37 + 11);
  }

 private:
  unsigned counter_ = 0;
};

}  // namespace qr::testing
