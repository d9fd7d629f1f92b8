// Ten photos completing at once on a session with room for eight, through the real router on the
// real SQLite store and disk store, each on its own thread with its own context (as the server's
// I/O threads run them): exactly eight count, the other two are deleted and refused.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "crypto/crypto.hpp"
#include "functions/http_api_handler.hpp"
#include "functions/websocket_event_handler.hpp"
#include "local/disk_object_store.hpp"
#include "local/hub_notifier.hpp"
#include "local/local_events.hpp"
#include "local/sqlite_session_store.hpp"

namespace qr::local {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

TEST(MultiPhotoConcurrency, TenUploadsAtOnceOnRoomForEightLeaveExactlyEightOnSqlite) {
  const fs::path dir = fs::temp_directory_path() / ("qr-concurrency-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  SystemClock clock;
  crypto::OsRandom random;
  HubNotifier hub;
  auto sessions = SqliteSessionStore::open(dir / "sessions.db");
  ASSERT_TRUE(sessions) << sessions.error().detail;
  auto objects = DiskObjectStore::open(dir, "http://127.0.0.1:1", clock);
  ASSERT_TRUE(objects) << objects.error().detail;
  handlers::Settings settings;
  auto run = [&](auto router, const json::value& event) {
    Logger log([](std::string_view) {});
    handlers::Context ctx{**sessions, **objects, hub, clock, random, log, settings};
    return read_router_answer(router(event, ctx));
  };

  const auto created =
      run(functions::http_api_handler,
          http_api_event({"POST", "/sessions", {}, R"({"maxUploads":8})", "r", ""}));
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id(json::parse(created.body).at("sessionId").as_string());
  std::vector<std::string> keys;
  std::string uploader;
  for (int i = 0; i < 10; ++i) {
    HeaderFields headers;
    if (!uploader.empty()) headers.emplace_back("Authorization", "Bearer " + uploader);
    const std::string target = "/upload-url?sessionId=" + id + "&contentType=image/jpeg";
    const auto issued =
        run(functions::http_api_handler, http_api_event({"GET", target, headers, "", "r", ""}));
    ASSERT_EQ(issued.status, 200) << issued.body;
    const auto body = json::parse(issued.body).as_object();
    if (const auto* token = body.if_contains("uploaderToken"))
      uploader = std::string(token->as_string());
    keys.emplace_back(body.at("uploadKey").as_string());
    const fs::path temp = (*objects)->temp_path();
    std::ofstream(temp, std::ios::binary) << std::string("\xFF\xD8\xFF\xE0\0\x10JFIF\0", 11)
                                          << std::string(1000, static_cast<char>('a' + i));
    ASSERT_TRUE((*objects)->commit(temp, keys.back()));
  }

  std::atomic<bool> go{false};
  std::atomic<int> completed{0}, rejected{0}, other{0};
  std::vector<std::thread> threads;
  for (const auto& key : keys)
    threads.emplace_back([&, key] {
      while (!go) std::this_thread::yield();
      const auto answer = run(functions::websocket_event_handler, object_created_event(key, 1011));
      const auto body = json::parse(answer.body).as_object();
      if (answer.status == 200 && body.at("completed").as_int64() == 1)
        ++completed;
      else if (answer.status == 200 && body.at("rejected").as_int64() == 1)
        ++rejected;
      else
        ++other;
    });
  go = true;
  for (auto& t : threads) t.join();

  EXPECT_EQ(completed.load(), 8);
  EXPECT_EQ(rejected.load(), 2);
  EXPECT_EQ(other.load(), 0);
  const auto end = (*sessions)->get(id);
  ASSERT_TRUE(end && *end);
  EXPECT_EQ((*end)->upload_count, 8);
  EXPECT_EQ((*end)->status, SessionStatus::completed);
  int stored = 0, counted = 0;
  for (const auto& key : keys) stored += fs::exists(*(*objects)->path_for(key)) ? 1 : 0;
  for (const auto& slot : (*end)->uploads) counted += slot.completed ? 1 : 0;
  EXPECT_EQ(stored, 8) << "the two that did not count are deleted";
  EXPECT_EQ(counted, 8);
  sessions->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace qr::local
