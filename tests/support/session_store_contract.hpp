#pragma once
// The SessionStore contract, as one typed test suite that every store runs: the in-memory fake,
// SQLite and DynamoDB (via dynalite). Instantiate it with a Factory type that has
//   static std::unique_ptr<qr::SessionStore> make();   // a fresh, empty store each call
// e.g. INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, SessionStoreContract,
// ::testing::Types<SqliteFactory>);

#include <gtest/gtest.h>

#include <memory>

#include "ports/session_store.hpp"

namespace qr::testing {

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

constexpr const char* kId = "0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b";
constexpr const char* kOther = "11111111-2222-4333-8444-555555555555";

TYPED_TEST_P(SessionStoreContract, GetOfMissingSessionIsEmpty) {
  auto got = this->store().get(kId);
  ASSERT_TRUE(got) << got.error().detail;
  EXPECT_FALSE(got->has_value());
}

TYPED_TEST_P(SessionStoreContract, SaveThenGetRoundTripsEveryField) {
  Session s = contract_session(kId);
  ASSERT_TRUE(this->store().save(s));
  auto got = this->store().get(kId);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(**got, s);
  EXPECT_FALSE((*got)->ws_connection_id.has_value());
  EXPECT_FALSE((*got)->upload_key.has_value());
  EXPECT_FALSE((*got)->completed_at.has_value());

  Session full = contract_session(kOther);
  full.status = SessionStatus::completed;
  full.ws_connection_id = "conn-1=";
  full.ws_token_bound = true;
  full.upload_key = "session-uploads/" + std::string(kOther) + "/image-1.jpg";
  full.content_type = "image/jpeg";
  full.completed_at = 1'700'000'100;
  full.upload_size = 123456;
  ASSERT_TRUE(this->store().save(full));
  auto got_full = this->store().get(kOther);
  ASSERT_TRUE(got_full && got_full->has_value());
  EXPECT_EQ(**got_full, full);
}

TYPED_TEST_P(SessionStoreContract, SaveOfExistingIdIsAlreadyExists) {
  ASSERT_TRUE(this->store().save(contract_session(kId)));
  Session again = contract_session(kId);
  again.status = SessionStatus::completed;
  auto saved = this->store().save(again);
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().code, ErrorCode::already_exists);
  EXPECT_EQ((*this->store().get(kId))->status, SessionStatus::awaiting_scan);
}

TYPED_TEST_P(SessionStoreContract, UpdateOfMissingSessionIsNotFound) {
  SessionUpdate changes;
  changes.status = SessionStatus::upload_requested;
  auto updated = this->store().update(kId, changes, {});
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, ErrorCode::not_found);
  EXPECT_FALSE(this->store().get(kId)->has_value()) << "update must not create a session";
}

TYPED_TEST_P(SessionStoreContract, UpdateAppliesChangesAndReturnsTheNewRecord) {
  ASSERT_TRUE(this->store().save(contract_session(kId)));
  SessionUpdate changes;
  changes.status = SessionStatus::upload_requested;
  changes.upload_key = "session-uploads/k";
  changes.content_type = "image/png";
  UpdateCondition condition;
  condition.status_in = {SessionStatus::awaiting_scan, SessionStatus::upload_requested};
  auto updated = this->store().update(kId, changes, condition);
  ASSERT_TRUE(updated) << updated.error().detail;
  EXPECT_EQ(updated->status, SessionStatus::upload_requested);
  EXPECT_EQ(updated->upload_key, "session-uploads/k");
  EXPECT_EQ(updated->content_type, "image/png");
  EXPECT_EQ(updated->expires_at, 1'700'001'800) << "untouched fields stay";
  EXPECT_EQ(**this->store().get(kId), *updated);
}

TYPED_TEST_P(SessionStoreContract, StatusConditionRejectsCompletedToUploadRequested) {
  Session s = contract_session(kId);
  s.status = SessionStatus::completed;
  s.upload_key = "k1";
  ASSERT_TRUE(this->store().save(s));
  SessionUpdate changes;
  changes.status = SessionStatus::upload_requested;
  changes.upload_key = "k2";
  UpdateCondition condition;
  condition.status_in = {SessionStatus::awaiting_scan, SessionStatus::upload_requested};
  auto updated = this->store().update(kId, changes, condition);
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, ErrorCode::condition_failed);
  auto after = **this->store().get(kId);
  EXPECT_EQ(after.status, SessionStatus::completed);
  EXPECT_EQ(after.upload_key, "k1") << "a failed condition writes nothing";
}

TYPED_TEST_P(SessionStoreContract, UploadKeyConditionGuardsCompletion) {
  Session s = contract_session(kId);
  s.status = SessionStatus::upload_requested;
  s.upload_key = "new-key";
  ASSERT_TRUE(this->store().save(s));
  SessionUpdate complete;
  complete.status = SessionStatus::completed;
  complete.completed_at = 5;
  UpdateCondition stale;
  stale.status_in = {SessionStatus::upload_requested};
  stale.upload_key_is = "old-key";
  auto r = this->store().update(kId, complete, stale);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::condition_failed);
  UpdateCondition current = stale;
  current.upload_key_is = "new-key";
  auto ok = this->store().update(kId, complete, current);
  ASSERT_TRUE(ok) << ok.error().detail;
  EXPECT_EQ(ok->status, SessionStatus::completed);
  EXPECT_EQ(ok->completed_at, 5);
}

TYPED_TEST_P(SessionStoreContract, ConnectionIsFoundSetAndRemoved) {
  ASSERT_TRUE(this->store().save(contract_session(kId)));
  ASSERT_TRUE(this->store().save(contract_session(kOther)));
  SessionUpdate bind;
  bind.ws_connection_id = "conn-A";
  bind.ws_token_bound = true;
  ASSERT_TRUE(this->store().update(kId, bind, {}));

  auto found = this->store().find_by_connection("conn-A");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->session_id, kId);
  EXPECT_TRUE((*found)->ws_token_bound);
  auto none = this->store().find_by_connection("conn-B");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());

  SessionUpdate clear;
  clear.ws_connection_id = std::optional<std::string>{};
  clear.ws_token_bound = false;
  UpdateCondition not_this;
  not_this.connection_is = std::string("conn-other");
  auto refused = this->store().update(kId, clear, not_this);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::condition_failed);

  UpdateCondition this_one;
  this_one.connection_is = std::string("conn-A");
  auto cleared = this->store().update(kId, clear, this_one);
  ASSERT_TRUE(cleared) << cleared.error().detail;
  EXPECT_FALSE(cleared->ws_connection_id.has_value());
  EXPECT_FALSE((**this->store().get(kId)).ws_connection_id.has_value());
  auto gone = this->store().find_by_connection("conn-A");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());

  UpdateCondition absent;
  absent.connection_is = std::optional<std::string>{};
  EXPECT_TRUE(this->store().update(kId, bind, absent))
      << "absent connection satisfies connection_is(nullopt)";
}

TYPED_TEST_P(SessionStoreContract, TokenlessConnectionCannotDisplaceTokenBoundOne) {
  ASSERT_TRUE(this->store().save(contract_session(kId)));
  SessionUpdate tokenless;
  tokenless.ws_connection_id = "conn-anon";
  tokenless.ws_token_bound = false;
  UpdateCondition guard;
  guard.connection_not_token_bound = true;
  ASSERT_TRUE(this->store().update(kId, tokenless, guard)) << "free slot may be taken";

  SessionUpdate desktop;
  desktop.ws_connection_id = "conn-desk";
  desktop.ws_token_bound = true;
  ASSERT_TRUE(this->store().update(kId, desktop, {}));

  auto refused = this->store().update(kId, tokenless, guard);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::condition_failed);
  EXPECT_EQ((**this->store().get(kId)).ws_connection_id, "conn-desk");
}

REGISTER_TYPED_TEST_SUITE_P(SessionStoreContract, GetOfMissingSessionIsEmpty,
                            SaveThenGetRoundTripsEveryField, SaveOfExistingIdIsAlreadyExists,
                            UpdateOfMissingSessionIsNotFound,
                            UpdateAppliesChangesAndReturnsTheNewRecord,
                            StatusConditionRejectsCompletedToUploadRequested,
                            UploadKeyConditionGuardsCompletion, ConnectionIsFoundSetAndRemoved,
                            TokenlessConnectionCannotDisplaceTokenBoundOne);

}  // namespace qr::testing
