#pragma once
// The SessionStore contract, as one typed test suite that every store runs: the in-memory fake,
// SQLite and DynamoDB (via dynalite). Instantiate it with a Factory type that has
//   static std::unique_ptr<qr::SessionStore> make();   // a fresh, empty store each call
//   static std::unique_ptr<qr::SessionStore> another(qr::SessionStore& store);
//       // a second handle on the same data, for another thread (may forward to `store` when
//       // that one is thread-safe)
// e.g. INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, SessionStoreContract,
// ::testing::Types<SqliteFactory>);

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <tuple>
#include <vector>

#include "ports/session_store.hpp"

namespace qr::testing {

/// A second handle on a thread-safe store: forwards every call.
class ForwardingStore final : public SessionStore {
 public:
  explicit ForwardingStore(SessionStore& store) : store_(store) {}
  Result<void> save(const Session& s) override { return store_.save(s); }
  Result<std::optional<Session>> get(std::string_view id) override { return store_.get(id); }
  Result<std::optional<Session>> get(std::string_view id, Consistency c) override {
    return store_.get(id, c);
  }
  Result<Session> update(std::string_view id, const SessionUpdate& c,
                         const UpdateCondition& k) override {
    return store_.update(id, c, k);
  }
  Result<std::optional<Session>> find_by_connection(std::string_view c) override {
    return store_.find_by_connection(c);
  }
  Result<std::optional<Session>> find_by_short_code(std::string_view c, std::int64_t now) override {
    return store_.find_by_short_code(c, now);
  }

 private:
  SessionStore& store_;
};

inline Session contract_session(std::string id) {
  Session s;
  s.session_id = std::move(id);
  s.status = SessionStatus::awaiting_scan;
  s.created_at = 1'700'000'000;
  s.expires_at = 1'700'001'800;
  s.desktop_token_hash = "ab12";
  return s;
}

template <class Factory>
class SessionStoreContract : public ::testing::Test {
 protected:
  void SetUp() override { store_ = Factory::make(); }
  SessionStore& store() { return *store_; }
  std::unique_ptr<SessionStore> store_;
};

TYPED_TEST_SUITE_P(SessionStoreContract);

constexpr const char* contract_id = "0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b";
constexpr const char* contract_other = "11111111-2222-4333-8444-555555555555";

TYPED_TEST_P(SessionStoreContract, GetOfMissingSessionIsEmpty) {
  auto got = this->store().get(contract_id);
  ASSERT_TRUE(got) << got.error().detail;
  EXPECT_FALSE(got->has_value());
}

TYPED_TEST_P(SessionStoreContract, SaveThenGetRoundTripsEveryField) {
  Session s = contract_session(contract_id);
  ASSERT_TRUE(this->store().save(s));
  auto got = this->store().get(contract_id);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(**got, s);
  EXPECT_FALSE((*got)->ws_connection_id.has_value());
  EXPECT_FALSE((*got)->upload_key.has_value());
  EXPECT_FALSE((*got)->completed_at.has_value());

  Session full = contract_session(contract_other);
  full.status = SessionStatus::completed;
  full.ws_connection_id = "conn-1=";
  full.ws_token_bound = true;
  full.upload_key = "session-uploads/" + std::string(contract_other) + "/image-1.jpg";
  full.content_type = "image/jpeg";
  full.completed_at = 1'700'000'100;
  full.upload_size = 123456;
  ASSERT_TRUE(this->store().save(full));
  auto got_full = this->store().get(contract_other);
  ASSERT_TRUE(got_full && got_full->has_value());
  EXPECT_EQ(**got_full, full);
}

TYPED_TEST_P(SessionStoreContract, SaveOfExistingIdIsAlreadyExists) {
  ASSERT_TRUE(this->store().save(contract_session(contract_id)));
  Session again = contract_session(contract_id);
  again.status = SessionStatus::completed;
  auto saved = this->store().save(again);
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().code, ErrorCode::already_exists);
  EXPECT_EQ((*this->store().get(contract_id))->status, SessionStatus::awaiting_scan);
}

// Two ids with the same first 8 hex digits have the same short code.
TYPED_TEST_P(SessionStoreContract, ShortCodeFindsTheLiveSessionAndIsUniqueAmongLiveOnes) {
  const std::string code = short_code_of(contract_id);
  ASSERT_EQ(code, "996460") << "0x0f8e7d6c % 1000000";
  auto none = this->store().find_by_short_code(code, 1'700'000'000);
  ASSERT_TRUE(none) << none.error().detail;
  EXPECT_FALSE(none->has_value());

  const Session first = contract_session(contract_id);
  ASSERT_TRUE(this->store().save(first));
  auto found = this->store().find_by_short_code(code, first.created_at + 10);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->session_id, contract_id);
  EXPECT_FALSE(this->store()
                   .find_by_short_code(short_code_of(contract_other), first.created_at)
                   ->has_value());

  // The same code while the first is live: refused, and nothing of the second is stored.
  const std::string twin = "0f8e7d6c-0000-4000-8000-000000000000";
  Session second = contract_session(twin);
  second.created_at = first.expires_at - 1;
  second.expires_at = second.created_at + 1800;
  auto taken = this->store().save(second);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, ErrorCode::condition_failed);
  EXPECT_FALSE(this->store().get(twin)->has_value());

  // Once the first has expired, the code is free again; lookups then find only the live one.
  EXPECT_FALSE(this->store().find_by_short_code(code, first.expires_at)->has_value());
  second.created_at = first.expires_at;
  second.expires_at = second.created_at + 1800;
  ASSERT_TRUE(this->store().save(second));
  auto now_second = this->store().find_by_short_code(code, second.created_at + 1);
  ASSERT_TRUE(now_second && now_second->has_value());
  EXPECT_EQ((*now_second)->session_id, twin);
}

TYPED_TEST_P(SessionStoreContract, UpdateOfMissingSessionIsNotFound) {
  SessionUpdate changes;
  changes.status = SessionStatus::upload_requested;
  auto updated = this->store().update(contract_id, changes, {});
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, ErrorCode::not_found);
  EXPECT_FALSE(this->store().get(contract_id)->has_value()) << "update must not create a session";
}

TYPED_TEST_P(SessionStoreContract, UpdateAppliesChangesAndReturnsTheNewRecord) {
  ASSERT_TRUE(this->store().save(contract_session(contract_id)));
  SessionUpdate changes;
  changes.status = SessionStatus::upload_requested;
  changes.upload_key = "session-uploads/k";
  changes.content_type = "image/png";
  UpdateCondition condition;
  condition.status_in = {SessionStatus::awaiting_scan, SessionStatus::upload_requested};
  auto updated = this->store().update(contract_id, changes, condition);
  ASSERT_TRUE(updated) << updated.error().detail;
  EXPECT_EQ(updated->status, SessionStatus::upload_requested);
  EXPECT_EQ(updated->upload_key, "session-uploads/k");
  EXPECT_EQ(updated->content_type, "image/png");
  EXPECT_EQ(updated->expires_at, 1'700'001'800) << "untouched fields stay";
  EXPECT_EQ(**this->store().get(contract_id), *updated);
}

TYPED_TEST_P(SessionStoreContract, StatusConditionRejectsCompletedToUploadRequested) {
  Session s = contract_session(contract_id);
  s.status = SessionStatus::completed;
  s.upload_key = "k1";
  ASSERT_TRUE(this->store().save(s));
  SessionUpdate changes;
  changes.status = SessionStatus::upload_requested;
  changes.upload_key = "k2";
  UpdateCondition condition;
  condition.status_in = {SessionStatus::awaiting_scan, SessionStatus::upload_requested};
  auto updated = this->store().update(contract_id, changes, condition);
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, ErrorCode::condition_failed);
  auto after = **this->store().get(contract_id);
  EXPECT_EQ(after.status, SessionStatus::completed);
  EXPECT_EQ(after.upload_key, "k1") << "a failed condition writes nothing";
}

TYPED_TEST_P(SessionStoreContract, UploadKeyConditionGuardsCompletion) {
  Session s = contract_session(contract_id);
  s.status = SessionStatus::upload_requested;
  s.upload_key = "new-key";
  ASSERT_TRUE(this->store().save(s));
  SessionUpdate complete;
  complete.status = SessionStatus::completed;
  complete.completed_at = 5;
  UpdateCondition stale;
  stale.status_in = {SessionStatus::upload_requested};
  stale.upload_key_is = "old-key";
  auto r = this->store().update(contract_id, complete, stale);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::condition_failed);
  UpdateCondition current = stale;
  current.upload_key_is = "new-key";
  auto ok = this->store().update(contract_id, complete, current);
  ASSERT_TRUE(ok) << ok.error().detail;
  EXPECT_EQ(ok->status, SessionStatus::completed);
  EXPECT_EQ(ok->completed_at, 5);
}

TYPED_TEST_P(SessionStoreContract, ConnectionIsFoundSetAndRemoved) {
  ASSERT_TRUE(this->store().save(contract_session(contract_id)));
  ASSERT_TRUE(this->store().save(contract_session(contract_other)));
  SessionUpdate bind;
  bind.ws_connection_id = "conn-A";
  bind.ws_token_bound = true;
  ASSERT_TRUE(this->store().update(contract_id, bind, {}));

  auto found = this->store().find_by_connection("conn-A");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->session_id, contract_id);
  EXPECT_TRUE((*found)->ws_token_bound);
  auto none = this->store().find_by_connection("conn-B");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());

  SessionUpdate clear;
  clear.ws_connection_id = std::optional<std::string>{};
  clear.ws_token_bound = false;
  UpdateCondition not_this;
  not_this.connection_is = std::string("conn-other");
  auto refused = this->store().update(contract_id, clear, not_this);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::condition_failed);

  UpdateCondition this_one;
  this_one.connection_is = std::string("conn-A");
  auto cleared = this->store().update(contract_id, clear, this_one);
  ASSERT_TRUE(cleared) << cleared.error().detail;
  EXPECT_FALSE(cleared->ws_connection_id.has_value());
  EXPECT_FALSE((**this->store().get(contract_id)).ws_connection_id.has_value());
  auto gone = this->store().find_by_connection("conn-A");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());

  UpdateCondition absent;
  absent.connection_is = std::optional<std::string>{};
  EXPECT_TRUE(this->store().update(contract_id, bind, absent))
      << "absent connection satisfies connection_is(nullopt)";
}

TYPED_TEST_P(SessionStoreContract, TokenlessConnectionCannotDisplaceTokenBoundOne) {
  ASSERT_TRUE(this->store().save(contract_session(contract_id)));
  SessionUpdate tokenless;
  tokenless.ws_connection_id = "conn-anon";
  tokenless.ws_token_bound = false;
  UpdateCondition guard;
  guard.connection_not_token_bound = true;
  ASSERT_TRUE(this->store().update(contract_id, tokenless, guard)) << "free slot may be taken";

  SessionUpdate desktop;
  desktop.ws_connection_id = "conn-desk";
  desktop.ws_token_bound = true;
  ASSERT_TRUE(this->store().update(contract_id, desktop, {}));

  auto refused = this->store().update(contract_id, tokenless, guard);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::condition_failed);
  EXPECT_EQ((**this->store().get(contract_id)).ws_connection_id, "conn-desk");
}

UploadSlot contract_slot(std::string key, std::int64_t issued_at) {
  return UploadSlot{std::move(key), "IMG_4821.JPG", "image/jpeg", issued_at};
}

TYPED_TEST_P(SessionStoreContract, MultiPhotoFieldsRoundTripInIssueOrder) {
  Session s = contract_session(contract_id);
  s.max_uploads = 20;
  s.upload_count = 1;
  s.uploader_token_hash = "cd34";
  UploadSlot done = contract_slot("session-uploads/x/image-2.jpg", 1'700'000'050);
  done.completed = true;
  done.size = 4096;
  done.completed_at = 1'700'000'060;
  done.index = 1;
  done.file_name = "Übung 📷 (1).jpg";
  s.uploads = {contract_slot("session-uploads/x/image-1.jpg", 1'700'000'040), done,
               contract_slot("session-uploads/x/image-3.jpg", 1'700'000'070)};
  ASSERT_TRUE(this->store().save(s));
  auto got = this->store().get(contract_id);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(**got, s);
}

TYPED_TEST_P(SessionStoreContract, PutSlotAddsANewSlotOrReplacesTheOneWithItsKey) {
  ASSERT_TRUE(this->store().save(contract_session(contract_id)));
  SessionUpdate add;
  add.put_slot = contract_slot("k1", 10);
  ASSERT_TRUE(this->store().update(contract_id, add, {}));
  add.put_slot = contract_slot("k2", 20);
  auto two = this->store().update(contract_id, add, {});
  ASSERT_TRUE(two) << two.error().detail;
  ASSERT_EQ(two->uploads.size(), 2u);
  UploadSlot filled = contract_slot("k1", 10);
  filled.completed = true;
  filled.index = 1;
  SessionUpdate fill;
  fill.put_slot = filled;
  fill.upload_count = 1;
  auto replaced = this->store().update(contract_id, fill, {});
  ASSERT_TRUE(replaced);
  ASSERT_EQ(replaced->uploads.size(), 2u);
  EXPECT_EQ(replaced->uploads[0], filled);
  EXPECT_EQ(replaced->uploads[1], contract_slot("k2", 20));
  EXPECT_EQ(replaced->upload_count, 1);
  EXPECT_EQ(**this->store().get(contract_id), *replaced);
}

TYPED_TEST_P(SessionStoreContract, SlotAndCountConditionsGuardACompletion) {
  Session s = contract_session(contract_id);
  s.uploads = {contract_slot("k1", 10), contract_slot("k2", 20)};
  s.uploads[1].completed = true;
  ASSERT_TRUE(this->store().save(s));
  SessionUpdate count;
  count.upload_count = 1;
  auto expect_refused = [&](const UpdateCondition& condition, const char* why) {
    auto r = this->store().update(contract_id, count, condition);
    ASSERT_FALSE(r) << why;
    EXPECT_EQ(r.error().code, ErrorCode::condition_failed) << why;
  };
  UpdateCondition missing_slot;
  missing_slot.slot_open = "k3";
  expect_refused(missing_slot, "no such slot");
  UpdateCondition counted_slot;
  counted_slot.slot_open = "k2";
  expect_refused(counted_slot, "the slot already counted");
  UpdateCondition wrong_count;
  wrong_count.upload_count_is = 5;
  expect_refused(wrong_count, "the count moved");
  UpdateCondition too_many_slots;
  too_many_slots.slots_fewer_than = 2;
  expect_refused(too_many_slots, "no room for another slot");
  EXPECT_EQ((**this->store().get(contract_id)).upload_count, 0) << "nothing was written";

  UpdateCondition all_hold;
  all_hold.slot_open = "k1";
  all_hold.upload_count_is = 0;
  all_hold.slots_fewer_than = 3;
  auto ok = this->store().update(contract_id, count, all_hold);
  ASSERT_TRUE(ok) << ok.error().detail;
  EXPECT_EQ(ok->upload_count, 1);
}

TYPED_TEST_P(SessionStoreContract, OnlyTheFirstPhoneClaimsTheSession) {
  ASSERT_TRUE(this->store().save(contract_session(contract_id)));
  SessionUpdate claim;
  claim.uploader_token_hash = "phone-a";
  UpdateCondition unclaimed;
  unclaimed.uploader_token_hash_is = std::optional<std::string>{};
  ASSERT_TRUE(this->store().update(contract_id, claim, unclaimed));
  claim.uploader_token_hash = "phone-b";
  auto second = this->store().update(contract_id, claim, unclaimed);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::condition_failed);
  UpdateCondition by_a;
  by_a.uploader_token_hash_is = std::optional<std::string>{"phone-a"};
  SessionUpdate slot;
  slot.put_slot = contract_slot("k1", 1);
  EXPECT_TRUE(this->store().update(contract_id, slot, by_a));
  EXPECT_EQ((**this->store().get(contract_id)).uploader_token_hash, "phone-a");
}

// What the completion handler records of telling the desktop (notifiedAt, notifyingUntil) comes
// back as written, and the condition it takes the telling over with holds only for a counted
// slot that was never told and that no delivery is telling (its notifyingUntil lapsed or absent).
TYPED_TEST_P(SessionStoreContract, NotificationFieldsRoundTripAndAnUntoldSlotIsTakenOverOnce) {
  constexpr std::int64_t now = 1'700'000'100;
  auto counted = [](std::string key, int index) {
    UploadSlot slot = contract_slot(std::move(key), index);
    slot.completed = true;
    slot.index = index;
    slot.size = 100 + index;
    slot.completed_at = 1'700'000'050;
    return slot;
  };
  Session s = contract_session(contract_id);
  s.max_uploads = 5;
  s.upload_count = 3;
  UploadSlot told = counted("told", 1);
  told.notified_at = 1'700'000'051;
  UploadSlot held = counted("held", 2);
  held.notifying_until = now;
  UploadSlot untold = counted("untold", 3);
  s.uploads = {told, held, untold, contract_slot("open", 4)};
  ASSERT_TRUE(this->store().save(s));
  auto got = this->store().get(contract_id);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(**got, s);
  // An eventually consistent read of the same record (every store here has one copy of it).
  auto eventual = this->store().get(contract_id, Consistency::eventual);
  ASSERT_TRUE(eventual && eventual->has_value()) << "an eventual read finds the session";
  EXPECT_EQ(**eventual, s);

  auto untold_at = [](std::string key, std::int64_t at) {
    UpdateCondition condition;
    condition.slot_untold = UpdateCondition::SlotUntold{std::move(key), at};
    return condition;
  };
  SessionUpdate noop;
  noop.upload_count = 3;
  for (const auto& [key, at, why] : std::vector<std::tuple<std::string, std::int64_t, const char*>>{
           {"told", now, "already told"},
           {"held", now, "another delivery is telling it until now"},
           {"open", now, "not counted"},
           {"nowhere", now, "no such slot"}}) {
    auto refused = this->store().update(contract_id, noop, untold_at(key, at));
    ASSERT_FALSE(refused) << why;
    EXPECT_EQ(refused.error().code, ErrorCode::condition_failed) << why;
  }
  EXPECT_TRUE(this->store().update(contract_id, noop, untold_at("held", now + 1)))
      << "a lapsed hold may be taken over";

  // Taking the untold slot over: the first take wins, a second one at the same time does not.
  UploadSlot taken = untold;
  taken.notifying_until = now + 60;
  SessionUpdate take;
  take.put_slot = taken;
  auto first = this->store().update(contract_id, take, untold_at("untold", now));
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_EQ(*find_slot(*first, "untold"), taken);
  auto second = this->store().update(contract_id, take, untold_at("untold", now));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::condition_failed);
  // Told: notifiedAt set, the hold given back; then it is never taken over again.
  taken.notified_at = now + 1;
  taken.notifying_until.reset();
  take.put_slot = taken;
  ASSERT_TRUE(this->store().update(contract_id, take, {}));
  EXPECT_EQ(*find_slot(**this->store().get(contract_id), "untold"), taken);
  EXPECT_FALSE(this->store().update(contract_id, noop, untold_at("untold", now + 600)));
}

// Ten writers race to fill a session with room for eight, each on its own handle, by the
// compare-and-set the completion handler uses: exactly eight win, each slot counts once.
TYPED_TEST_P(SessionStoreContract, TenConcurrentCompletionsOnRoomForEightLeaveExactlyEight) {
  constexpr int writers = 10, room = 8;
  Session s = contract_session(contract_id);
  s.status = SessionStatus::upload_requested;
  s.max_uploads = room;
  for (int i = 0; i < writers; ++i) s.uploads.push_back(contract_slot("k" + std::to_string(i), i));
  ASSERT_TRUE(this->store().save(s));
  std::vector<std::unique_ptr<SessionStore>> handles;
  for (int i = 0; i < writers; ++i) handles.push_back(TypeParam::another(this->store()));
  std::atomic<int> won{0}, full{0}, errors{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < writers; ++i)
    threads.emplace_back([&, i] {
      SessionStore& store = *handles[i];
      while (!go) std::this_thread::yield();
      for (int attempt = 0; attempt < 50; ++attempt) {
        auto current = store.get(contract_id);
        if (!current || !*current) return void(++errors);
        const int count = (**current).upload_count;
        if (count >= room) return void(++full);
        UploadSlot filled = contract_slot("k" + std::to_string(i), i);
        filled.completed = true;
        filled.index = count + 1;
        SessionUpdate complete;
        complete.put_slot = filled;
        complete.upload_count = count + 1;
        if (count + 1 == room) complete.status = SessionStatus::completed;
        UpdateCondition condition;
        condition.status_in = {SessionStatus::upload_requested};
        condition.upload_count_is = count;
        condition.slot_open = filled.key;
        auto r = store.update(contract_id, complete, condition);
        if (r) return void(++won);
        if (r.error().code != ErrorCode::condition_failed) return void(++errors);
      }
      ++errors;
    });
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(won.load(), room);
  EXPECT_EQ(full.load(), writers - room);
  const Session end = **this->store().get(contract_id);
  EXPECT_EQ(end.upload_count, room);
  EXPECT_EQ(end.status, SessionStatus::completed);
  std::vector<int> indexes;
  for (const auto& slot : end.uploads)
    if (slot.completed) indexes.push_back(*slot.index);
  std::ranges::sort(indexes);
  EXPECT_EQ(indexes, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8})) << "each index given once";
}

REGISTER_TYPED_TEST_SUITE_P(
    SessionStoreContract, GetOfMissingSessionIsEmpty, SaveThenGetRoundTripsEveryField,
    SaveOfExistingIdIsAlreadyExists, ShortCodeFindsTheLiveSessionAndIsUniqueAmongLiveOnes,
    UpdateOfMissingSessionIsNotFound, UpdateAppliesChangesAndReturnsTheNewRecord,
    StatusConditionRejectsCompletedToUploadRequested, UploadKeyConditionGuardsCompletion,
    ConnectionIsFoundSetAndRemoved, TokenlessConnectionCannotDisplaceTokenBoundOne,
    MultiPhotoFieldsRoundTripInIssueOrder, PutSlotAddsANewSlotOrReplacesTheOneWithItsKey,
    SlotAndCountConditionsGuardACompletion, OnlyTheFirstPhoneClaimsTheSession,
    NotificationFieldsRoundTripAndAnUntoldSlotIsTakenOverOnce,
    TenConcurrentCompletionsOnRoomForEightLeaveExactlyEight);

}  // namespace qr::testing
