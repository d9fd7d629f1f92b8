// The SessionStore contract on a real SQLite file, plus what only SQLite has: restarts and sweeps.
#include <atomic>
#include <ctime>
#include <filesystem>
#include <thread>

#include "local/sqlite_session_store.hpp"
#include "support/session_store_contract.hpp"
#include "support/temp_dir.hpp"

namespace qr::local {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir() {
  return testing::fresh_temp_dir("qr-sqlite");
}

struct SqliteFactory {
  static std::unique_ptr<SessionStore> make() {
    auto store = SqliteSessionStore::open(fresh_dir() / "sessions.db");
    EXPECT_TRUE(store) << store.error().detail;
    return std::move(*store);
  }
  static std::unique_ptr<SessionStore> another(SessionStore& store) {
    return std::make_unique<qr::testing::ForwardingStore>(store);  // one connection, locked
  }
};

TEST(SqliteSessionStore, SessionsSurviveReopeningTheFile) {
  const auto path = fresh_dir() / "sessions.db";
  Session s = testing::contract_session("0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b");
  s.upload_key = "k";
  {
    auto store = SqliteSessionStore::open(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->save(s));
  }
  auto again = SqliteSessionStore::open(path);
  ASSERT_TRUE(again);
  auto got = (*again)->get(s.session_id);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(**got, s);
}

// Short codes are held in memory (no index): a restart reads back the ones still live.
TEST(SqliteSessionStore, LiveShortCodesSurviveReopeningTheFile) {
  const auto path = fresh_dir() / "sessions.db";
  const std::int64_t now = std::time(nullptr);
  Session live = testing::contract_session("0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b");
  live.created_at = now;
  live.expires_at = now + 1800;
  Session lapsed = testing::contract_session("11111111-2222-4333-8444-555555555555");
  lapsed.created_at = now - 3600;
  lapsed.expires_at = now - 1800;
  {
    auto store = SqliteSessionStore::open(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->save(live));
    ASSERT_TRUE((*store)->save(lapsed));
  }
  auto again = SqliteSessionStore::open(path);
  ASSERT_TRUE(again) << again.error().detail;
  auto found = (*again)->find_by_short_code(short_code_of(live.session_id), now);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->session_id, live.session_id);
  Session twin = testing::contract_session("0f8e7d6c-0000-4000-8000-000000000000");
  twin.created_at = now;
  twin.expires_at = now + 1800;
  auto taken = (*again)->save(twin);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, ErrorCode::condition_failed);
  EXPECT_FALSE((*again)->find_by_short_code(short_code_of(lapsed.session_id), now)->has_value());
  Session lapsed_twin = testing::contract_session("11111111-0000-4000-8000-000000000000");
  lapsed_twin.created_at = now;
  lapsed_twin.expires_at = now + 1800;
  EXPECT_TRUE((*again)->save(lapsed_twin)) << "a lapsed session's code is free";
}

TEST(SqliteSessionStore, UsesWriteAheadLogging) {
  const auto dir = fresh_dir();
  auto store = SqliteSessionStore::open(dir / "sessions.db");
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->save(testing::contract_session("0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b")));
  EXPECT_TRUE(fs::exists(dir / "sessions.db-wal"));
}

TEST(SqliteSessionStore, SweepDeletesOnlySessionsExpiredBeforeTheCutoff) {
  auto store = std::move(*SqliteSessionStore::open(fresh_dir() / "s.db"));
  Session old = testing::contract_session("11111111-1111-4111-8111-111111111111");
  old.expires_at = 100;
  Session live = testing::contract_session("22222222-2222-4222-8222-222222222222");
  live.expires_at = 10'000;
  ASSERT_TRUE(store->save(old));
  ASSERT_TRUE(store->save(live));
  auto swept = store->sweep_expired(5'000);
  ASSERT_TRUE(swept);
  EXPECT_EQ(*swept, std::vector<std::string>{old.session_id});
  EXPECT_FALSE(store->get(old.session_id)->has_value());
  EXPECT_TRUE(store->get(live.session_id)->has_value());
}

TEST(SqliteSessionStore, ClearConnectionsForgetsEveryWebSocket) {
  auto store = std::move(*SqliteSessionStore::open(fresh_dir() / "s.db"));
  Session s = testing::contract_session("11111111-1111-4111-8111-111111111111");
  s.ws_connection_id = "c";
  s.ws_token_bound = true;
  ASSERT_TRUE(store->save(s));
  ASSERT_TRUE(store->clear_connections());
  auto got = **store->get(s.session_id);
  EXPECT_FALSE(got.ws_connection_id);
  EXPECT_FALSE(got.ws_token_bound);
}

TEST(SqliteSessionStore, RacingConditionalUpdatesLetExactlyOneWin) {
  auto store = std::move(*SqliteSessionStore::open(fresh_dir() / "s.db"));
  const std::string id = "11111111-1111-4111-8111-111111111111";
  ASSERT_TRUE(store->save(testing::contract_session(id)));
  std::atomic<int> wins{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      SessionUpdate u;
      u.status = SessionStatus::upload_requested;
      u.upload_key = "key-" + std::to_string(t);
      UpdateCondition c;
      c.status_in = {SessionStatus::awaiting_scan};
      auto r = store->update(id, u, c);
      if (r)
        ++wins;
      else if (r.error().code == ErrorCode::condition_failed)
        ++conflicts;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(conflicts.load(), 7);
}

TEST(SqliteSessionStore, UnwritableLocationIsAClearError) {
  auto store = SqliteSessionStore::open("/proc/definitely/not/here.db");
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().detail.find("/proc/definitely/not/here.db"), std::string::npos);
}

}  // namespace
}  // namespace qr::local

namespace qr::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, SessionStoreContract,
                               ::testing::Types<qr::local::SqliteFactory>);
}  // namespace qr::testing
