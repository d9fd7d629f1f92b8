#include "support/fakes.hpp"
#include "support/session_store_contract.hpp"

namespace {

struct FakeFactory {
  static std::unique_ptr<qr::SessionStore> make() {
    return std::make_unique<qr::testing::FakeSessionStore>();
  }
  static std::unique_ptr<qr::SessionStore> another(qr::SessionStore& store) {
    return std::make_unique<qr::testing::ForwardingStore>(store);  // the fake locks inside
  }
};

}  // namespace

namespace qr::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Fake, SessionStoreContract, ::testing::Types<FakeFactory>);
}  // namespace qr::testing
