// The invocation loop against a scripted event source: no Runtime API, no sockets. Handlers
// answer with values (HandlerResult: a document or a HandlerError); the exception tests check
// the loop's one catch-all for what should never escape a handler.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdlib>
#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

#include "lambda/runtime_loop.hpp"

namespace qr::lambda {
namespace {

/// Hands out queued events, records what the loop reports, then fails next() when empty.
class ScriptedSource final : public EventSource {
 public:
  struct Outcome {
    std::string request_id;
    bool ok = false;
    std::string body;   // the response, when ok
    ErrorReport error;  // the error, when not
  };

  void add(std::string request_id, std::string payload, std::int64_t deadline_ms = 0,
           std::string trace_id = {}) {
    NextEvent e;
    e.invocation.request_id = std::move(request_id);
    e.invocation.deadline_ms = deadline_ms;
    e.invocation.function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:qr-upload-test";
    e.invocation.trace_id = std::move(trace_id);
    e.payload = std::move(payload);
    queue_.push_back(std::move(e));
  }

  Result<NextEvent> next() override {
    if (queue_.empty()) return qr::fail(ErrorCode::unavailable, "no more events");
    NextEvent e = std::move(queue_.front());
    queue_.pop_front();
    return e;
  }
  Result<void> respond(const Invocation& inv, std::string_view body) override {
    outcomes.push_back({inv.request_id, true, std::string(body), {}});
    return {};
  }
  Result<void> fail(const Invocation& inv, const ErrorReport& error) override {
    outcomes.push_back({inv.request_id, false, {}, error});
    return {};
  }

  std::vector<Outcome> outcomes;

 private:
  std::deque<NextEvent> queue_;
};

struct LoopTest : ::testing::Test {
  ScriptedSource source;
  std::vector<std::string> lines;
  Logger log{[this](std::string_view line) { lines.emplace_back(line); }};
};

TEST_F(LoopTest, RespondsWithTheHandlersDocument) {
  source.add("req-1", R"({"n": 41})");
  const Handler handler = [](const boost::json::value& event, const Invocation&) -> HandlerResult {
    return boost::json::value{{"statusCode", 200}, {"n", event.at("n").as_int64() + 1}};
  };
  const auto end = run_loop(source, handler, log);
  ASSERT_FALSE(end.has_value());  // the source ran dry
  ASSERT_EQ(source.outcomes.size(), 1u);
  EXPECT_TRUE(source.outcomes[0].ok);
  EXPECT_EQ(source.outcomes[0].request_id, "req-1");
  EXPECT_EQ(boost::json::parse(source.outcomes[0].body),
            (boost::json::value{{"statusCode", 200}, {"n", 42}}));
}

TEST_F(LoopTest, HandlerErrorValueBecomesAnInvocationErrorAndTheLoopGoesOn) {
  source.add("req-1", "{}");
  source.add("req-2", "{}");
  int calls = 0;
  const Handler handler = [&calls](const boost::json::value&, const Invocation&) -> HandlerResult {
    if (++calls == 1) {
      return std::unexpected(HandlerError{"RedeliverEvent", "storage unavailable; deliver again"});
    }
    return boost::json::value{{"statusCode", 200}};
  };
  (void)run_loop(source, handler, log);
  ASSERT_EQ(source.outcomes.size(), 2u);
  EXPECT_FALSE(source.outcomes[0].ok);
  EXPECT_EQ(source.outcomes[0].request_id, "req-1");
  EXPECT_EQ(source.outcomes[0].error.function_error_type, "Function.RedeliverEvent");
  EXPECT_EQ(source.outcomes[0].error.error_type, "RedeliverEvent");
  EXPECT_EQ(source.outcomes[0].error.error_message, "storage unavailable; deliver again");
  EXPECT_TRUE(source.outcomes[1].ok);
  bool logged = false;
  for (const auto& line : lines) {
    const auto doc = boost::json::parse(line).as_object();
    if (doc.at("level") == "ERROR" && doc.at("requestId") == "req-1" &&
        doc.at("errorType") == "RedeliverEvent")
      logged = true;
  }
  EXPECT_TRUE(logged);
}

TEST_F(LoopTest, HandlerExceptionBecomesAnInvocationErrorAndTheLoopGoesOn) {
  source.add("req-1", "{}");
  source.add("req-2", "{}");
  int calls = 0;
  const Handler handler = [&calls](const boost::json::value&, const Invocation&) -> HandlerResult {
    if (++calls == 1) throw std::runtime_error("store exploded");
    return boost::json::value{{"statusCode", 200}};
  };
  (void)run_loop(source, handler, log);
  ASSERT_EQ(source.outcomes.size(), 2u);
  EXPECT_FALSE(source.outcomes[0].ok);
  EXPECT_EQ(source.outcomes[0].error.function_error_type, "Runtime.UnhandledException");
  EXPECT_EQ(source.outcomes[0].error.error_type, "std::runtime_error");
  EXPECT_EQ(source.outcomes[0].error.error_message, "store exploded");
  EXPECT_TRUE(source.outcomes[1].ok);
  // The error is a JSON log line with the request id.
  bool logged = false;
  for (const auto& line : lines) {
    const auto doc = boost::json::parse(line).as_object();
    if (doc.at("level") == "ERROR" && doc.at("requestId") == "req-1") logged = true;
  }
  EXPECT_TRUE(logged);
}

TEST_F(LoopTest, NonStandardExceptionIsCaughtToo) {
  source.add("req-1", "{}");
  const Handler handler = [](const boost::json::value&, const Invocation&) -> HandlerResult {
    throw 42;
  };
  (void)run_loop(source, handler, log);
  ASSERT_EQ(source.outcomes.size(), 1u);
  EXPECT_FALSE(source.outcomes[0].ok);
  EXPECT_EQ(source.outcomes[0].error.error_type, "UnknownException");
}

TEST_F(LoopTest, InvalidJsonEventIsReportedWithoutCallingTheHandler) {
  source.add("req-bad", "{not json");
  bool called = false;
  const Handler handler = [&called](const boost::json::value&, const Invocation&) -> HandlerResult {
    called = true;
    return boost::json::value{};
  };
  (void)run_loop(source, handler, log);
  EXPECT_FALSE(called);
  ASSERT_EQ(source.outcomes.size(), 1u);
  EXPECT_FALSE(source.outcomes[0].ok);
  EXPECT_EQ(source.outcomes[0].error.function_error_type, "Runtime.InvalidEventJson");
}

TEST_F(LoopTest, DeadlineArnAndTraceReachTheHandler) {
  source.add("req-1", "{}", 1'700'000'030'000, "Root=1-abc;Parent=def;Sampled=1");
  Invocation seen;
  std::string trace_env;
  const Handler handler = [&](const boost::json::value&, const Invocation& inv) -> HandlerResult {
    seen = inv;
    if (const char* t = std::getenv("_X_AMZN_TRACE_ID")) trace_env = t;
    return boost::json::value{{"ok", true}};
  };
  (void)run_loop(source, handler, log);
  EXPECT_EQ(seen.deadline_ms, 1'700'000'030'000);
  EXPECT_EQ(seen.remaining_ms(1'700'000'000'000), 30'000);
  EXPECT_EQ(seen.function_arn, "arn:aws:lambda:eu-west-1:123456789012:function:qr-upload-test");
  EXPECT_EQ(trace_env, "Root=1-abc;Parent=def;Sampled=1");
}

TEST_F(LoopTest, EachInvocationGetsItsOwnTraceIdOrNone) {
  source.add("req-1", "{}", 0, "Root=1-aaa;Sampled=1");
  source.add("req-2", "{}", 0, "Root=1-bbb;Sampled=0");
  source.add("req-3", "{}");  // Lambda sent no Lambda-Runtime-Trace-Id
  std::vector<std::string> traces;
  const Handler handler = [&](const boost::json::value&, const Invocation&) -> HandlerResult {
    const char* t = std::getenv("_X_AMZN_TRACE_ID");
    traces.emplace_back(t ? t : "(unset)");
    return boost::json::value{{"ok", true}};
  };
  (void)run_loop(source, handler, log);
  EXPECT_EQ(traces,
            (std::vector<std::string>{"Root=1-aaa;Sampled=1", "Root=1-bbb;Sampled=0", "(unset)"}));
}

TEST_F(LoopTest, LoggerCarriesEachInvocationsRequestId) {
  source.add("req-a", "{}");
  source.add("req-b", "{}");
  const Handler handler = [this](const boost::json::value&, const Invocation&) -> HandlerResult {
    log.info("handling");
    return boost::json::value{{"ok", true}};
  };
  (void)run_loop(source, handler, log);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(boost::json::parse(lines[0]).at("requestId"), "req-a");
  EXPECT_EQ(boost::json::parse(lines[1]).at("requestId"), "req-b");
  EXPECT_TRUE(log.request_id().empty());  // cleared when the loop ends
}

TEST_F(LoopTest, StopsAfterMaxInvocations) {
  source.add("req-1", "{}");
  source.add("req-2", "{}");
  const Handler handler = [](const boost::json::value&, const Invocation&) -> HandlerResult {
    return boost::json::value{{"ok", true}};
  };
  EXPECT_TRUE(run_loop(source, handler, log, 1).has_value());
  EXPECT_EQ(source.outcomes.size(), 1u);
}

TEST(ErrorReport, SerializesAsTheRuntimeApiExpects) {
  ErrorReport report{
      "Runtime.ConfigInvalid", "ConfigInvalid", "SESSIONS_TABLE_NAME is not set", {"frame"}};
  EXPECT_EQ(boost::json::parse(report.to_json()),
            (boost::json::value{{"errorMessage", "SESSIONS_TABLE_NAME is not set"},
                                {"errorType", "ConfigInvalid"},
                                {"stackTrace", boost::json::array{"frame"}}}));
}

}  // namespace
}  // namespace qr::lambda
