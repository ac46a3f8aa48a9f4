// The log's two line formats, exactly, and KS_LOG_IN's level filter and context.
#include "client_core/common/log.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace kafka::log {
namespace {

using namespace std::chrono;

// 2026-11-21T18:25:17.042Z
const system_clock::time_point kTime =
    sys_days{year{2026} / November / 21} + hours{18} + minutes{25} + seconds{17} + milliseconds{42};

std::string text(const Context& context, std::string_view message, Level level = Level::kWarn) {
  return formatEntry({kTime, level, "group", context, message}, Format::kText);
}

std::string json(const Context& context, std::string_view message, Level level = Level::kWarn) {
  return formatEntry({kTime, level, "group", context, message}, Format::kJson);
}

TEST(LogFormatTest, TextIsOneLineWithTheContextAsKeyValuePairs) {
  EXPECT_EQ(text({}, "ready", Level::kInfo), "2026-11-21T18:25:17.042Z info  [group] ready\n");
  EXPECT_EQ(text({.cluster = "default",
                  .group = "orders",
                  .topic = "payments",
                  .partition = 3,
                  .broker = 1,
                  .session = "s-7"},
                 "JoinGroup failed"),
            "2026-11-21T18:25:17.042Z warn  [group] JoinGroup failed cluster=default "
            "group=orders topic=payments partition=3 broker=1 session=s-7\n");
  // Partition and broker 0 are real ids; -1 means none.
  EXPECT_EQ(text({.partition = 0, .broker = 0}, "m"),
            "2026-11-21T18:25:17.042Z warn  [group] m partition=0 broker=0\n");
}

TEST(LogFormatTest, TextEscapesWhatCouldForgeALine) {
  EXPECT_EQ(text({}, "a\nb\r\tc\\d\x7f"),
            "2026-11-21T18:25:17.042Z warn  [group] a\\x0ab\\x0d\\x09c\\\\d\\x7f\n");
  // A value with a space, '=' or '"' is quoted, so that it cannot pass for more pairs.
  EXPECT_EQ(text({.group = "a b=c \"d\""}, "m"),
            "2026-11-21T18:25:17.042Z warn  [group] m group=\"a b=c \\\"d\\\"\"\n");
  EXPECT_EQ(text({.group = "x\ny"}, "m"),
            "2026-11-21T18:25:17.042Z warn  [group] m group=x\\x0ay\n");
}

TEST(LogFormatTest, JsonIsOneObjectPerLine) {
  EXPECT_EQ(json({}, "ready", Level::kError),
            R"({"time":"2026-11-21T18:25:17.042Z","level":"error","component":"group",)"
            R"("message":"ready"})"
            "\n");
  EXPECT_EQ(json({.cluster = "default",
                  .group = "orders",
                  .topic = "t",
                  .partition = 0,
                  .broker = 2,
                  .session = "s-1"},
                 "m"),
            R"({"time":"2026-11-21T18:25:17.042Z","level":"warn","component":"group",)"
            R"("message":"m","cluster":"default","group":"orders","topic":"t","partition":0,)"
            R"("broker":2,"session":"s-1"})"
            "\n");
}

TEST(LogFormatTest, JsonEscapesAndAlwaysIsValidUtf8) {
  EXPECT_EQ(json({.group = "q\"b\\"}, "line\nnext\ttab\x01"),
            R"({"time":"2026-11-21T18:25:17.042Z","level":"warn","component":"group",)"
            R"("message":"line\nnext\ttab\u0001","group":"q\"b\\"})"
            "\n");
  // Well-formed UTF-8 stays; a stray continuation byte, a truncated sequence, an overlong form
  // and a surrogate each become U+FFFD, byte by byte.
  EXPECT_EQ(json({}, "caf\xc3\xa9 \xe2\x82\xac \x80 \xe2\x82 \xc0\xaf \xed\xa0\x80"),
            R"({"time":"2026-11-21T18:25:17.042Z","level":"warn","component":"group",)"
            "\"message\":\"caf\xc3\xa9 \xe2\x82\xac \\ufffd \\ufffd\\ufffd \\ufffd\\ufffd "
            "\\ufffd\\ufffd\\ufffd\"}\n");
}

TEST(LogFormatTest, NamesParse) {
  Format format = Format::kText;
  EXPECT_TRUE(parseFormat("json", format));
  EXPECT_EQ(format, Format::kJson);
  EXPECT_TRUE(parseFormat("text", format));
  EXPECT_EQ(format, Format::kText);
  EXPECT_FALSE(parseFormat("JSON", format));
  EXPECT_FALSE(parseFormat("", format));
}

struct Captured {
  Level level;
  std::string component;
  std::string group;
  int32_t partition;
  std::string message;
};

class LogSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setSink([this](const Entry& entry) {
      captured_.push_back({entry.level, std::string(entry.component),
                           std::string(entry.context.group), entry.context.partition,
                           std::string(entry.message)});
    });
  }
  void TearDown() override {
    setSink(nullptr);
    setLevel(Level::kInfo);
  }

  std::vector<Captured> captured_;
};

TEST_F(LogSinkTest, EntriesBelowTheLevelAreNotEvenFormatted) {
  setLevel(Level::kWarn);
  int evaluated = 0;
  auto count = [&] { return ++evaluated; };
  KS_LOG(kInfo, "daemon", "skipped " << count());
  KS_LOG_IN(kError, "group", (Context{.group = "g", .partition = 4}), "kept " << count());
  ASSERT_EQ(captured_.size(), 1u);
  EXPECT_EQ(evaluated, 1);
  EXPECT_EQ(captured_[0].level, Level::kError);
  EXPECT_EQ(captured_[0].component, "group");
  EXPECT_EQ(captured_[0].group, "g");
  EXPECT_EQ(captured_[0].partition, 4);
  EXPECT_EQ(captured_[0].message, "kept 1");

  setLevel(Level::kOff);
  KS_LOG(kError, "daemon", "nothing at all");
  EXPECT_EQ(captured_.size(), 1u);
}

}  // namespace
}  // namespace kafka::log
