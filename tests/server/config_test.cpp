// Command-line parsing of kafka-sidecar: every flag, both value forms, and the errors.
#include "server/config.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace kafka::sidecar {
namespace {

using Action = ParsedArgs::Action;

ParsedArgs parse(std::vector<std::string_view> args) {
  return parseArgs(args);
}

// Parses `args` expecting a usage error, and returns its message.
std::string errorOf(std::vector<std::string_view> args) {
  ParsedArgs parsed = parse(args);
  EXPECT_EQ(parsed.action, Action::kError) << "no error for " << ::testing::PrintToString(args);
  return parsed.error;
}

TEST(ConfigTest, DefaultsWithEmbeddedBroker) {
  ParsedArgs parsed = parse({"--embedded-broker"});
  ASSERT_EQ(parsed.action, Action::kRun) << parsed.error;
  const DaemonConfig& config = parsed.config;
  EXPECT_EQ(config.embedded_brokers, 1);
  EXPECT_TRUE(config.bootstrap_servers.empty());
  EXPECT_EQ(config.grpc_listen, "127.0.0.1:50051");
  EXPECT_EQ(config.http_listen, (net::HostPort{"127.0.0.1", 8080}));
  EXPECT_EQ(config.client_id, "kafka-sidecar");
  EXPECT_EQ(config.log_level, log::Level::kInfo);
  EXPECT_EQ(config.threads, defaultThreadCount());
  EXPECT_GE(config.threads, 1u);
}

TEST(ConfigTest, EveryFlagWithEqualsForm) {
  ParsedArgs parsed = parse({"--bootstrap-servers=k1:9092,[::1]:9093,k3.example.com:19092",
                             "--grpc-listen=0.0.0.0:0", "--http-listen=[::1]:0",
                             "--client-id=orders-app", "--threads=3", "--log-level=debug"});
  ASSERT_EQ(parsed.action, Action::kRun) << parsed.error;
  const DaemonConfig& config = parsed.config;
  EXPECT_EQ(config.bootstrap_servers,
            (std::vector<std::string>{"k1:9092", "[::1]:9093", "k3.example.com:19092"}));
  EXPECT_EQ(config.embedded_brokers, 0);
  EXPECT_EQ(config.grpc_listen, "0.0.0.0:0");
  EXPECT_EQ(config.http_listen, (net::HostPort{"::1", 0}));
  EXPECT_EQ(config.client_id, "orders-app");
  EXPECT_EQ(config.threads, 3u);
  EXPECT_EQ(config.log_level, log::Level::kDebug);
}

TEST(ConfigTest, EveryFlagWithSeparateValue) {
  ParsedArgs parsed = parse({"--bootstrap-servers", "localhost:9092", "--grpc-listen",
                             "unix:/tmp/sidecar.sock", "--http-listen", "localhost:8081",
                             "--client-id", "x", "--threads", "1", "--log-level", "error"});
  ASSERT_EQ(parsed.action, Action::kRun) << parsed.error;
  EXPECT_EQ(parsed.config.bootstrap_servers, std::vector<std::string>{"localhost:9092"});
  EXPECT_EQ(parsed.config.grpc_listen, "unix:/tmp/sidecar.sock");
  EXPECT_EQ(parsed.config.http_listen, (net::HostPort{"localhost", 8081}));
  EXPECT_EQ(parsed.config.client_id, "x");
  EXPECT_EQ(parsed.config.threads, 1u);
  EXPECT_EQ(parsed.config.log_level, log::Level::kError);
}

TEST(ConfigTest, ApiVersionCapsAccumulatePerApi) {
  ParsedArgs parsed = parse({"--embedded-broker", "--api-version-cap=ListOffsets:3",
                             "--api-version-cap", "Metadata:2", "--api-version-cap=Metadata:1"});
  ASSERT_EQ(parsed.action, Action::kRun) << parsed.error;
  EXPECT_EQ(parsed.config.api_version_caps,
            (std::map<protocol::ApiKey, int16_t>{{protocol::ApiKey::kListOffsets, 3},
                                                 {protocol::ApiKey::kMetadata, 1}}));
}

TEST(ConfigTest, ApiVersionCapErrorsNameTheFault) {
  EXPECT_NE(errorOf({"--embedded-broker", "--api-version-cap=Bogus:3"}).find("unknown API 'Bogus'"),
            std::string::npos);
  EXPECT_NE(errorOf({"--embedded-broker", "--api-version-cap=ListOffsets"})
                .find("invalid value 'ListOffsets' for --api-version-cap"),
            std::string::npos);
  EXPECT_NE(errorOf({"--embedded-broker", "--api-version-cap=ListOffsets:-1"})
                .find("--api-version-cap"),
            std::string::npos);
}

TEST(ConfigTest, NamedClustersAddToTheDefault) {
  ParsedArgs parsed = parse({"--bootstrap-servers=k1:9092", "--cluster=analytics=a1:9092,a2:9092",
                             "--cluster", "eu.west-1=e1:9093"});
  ASSERT_EQ(parsed.action, Action::kRun) << parsed.error;
  EXPECT_EQ(parsed.config.named_clusters,
            (std::map<std::string, std::vector<std::string>>{
                {"analytics", {"a1:9092", "a2:9092"}}, {"eu.west-1", {"e1:9093"}}}));
}

TEST(ConfigTest, NamedClusterErrorsNameTheFault) {
  EXPECT_NE(errorOf({"--embedded-broker", "--cluster=analytics"}).find("NAME=host:port"),
            std::string::npos);
  EXPECT_NE(errorOf({"--embedded-broker", "--cluster=default=k:1"}).find("default cluster"),
            std::string::npos);
  EXPECT_NE(errorOf({"--embedded-broker", "--cluster=a b=k:1"}).find("NAME: letters"),
            std::string::npos);
  EXPECT_NE(errorOf({"--embedded-broker", "--cluster=x=k:0"}).find("invalid value 'x=k:0' for --cluster"),
            std::string::npos);
}

TEST(ConfigTest, EmbeddedBrokerCount) {
  EXPECT_EQ(parse({"--embedded-broker=3"}).config.embedded_brokers, 3);
  EXPECT_EQ(parse({"--embedded-broker=64"}).config.embedded_brokers, 64);
}

TEST(ConfigTest, EveryLogLevel) {
  const std::pair<std::string_view, log::Level> levels[] = {{"trace", log::Level::kTrace},
                                                            {"debug", log::Level::kDebug},
                                                            {"info", log::Level::kInfo},
                                                            {"warn", log::Level::kWarn},
                                                            {"error", log::Level::kError}};
  for (const auto& [text, level] : levels) {
    std::string flag = "--log-level=" + std::string(text);
    ParsedArgs parsed = parse({"--embedded-broker", flag});
    ASSERT_EQ(parsed.action, Action::kRun) << parsed.error;
    EXPECT_EQ(parsed.config.log_level, level) << text;
  }
}

TEST(ConfigTest, LaterFlagWins) {
  ParsedArgs parsed = parse({"--embedded-broker", "--threads=2", "--threads=5"});
  ASSERT_EQ(parsed.action, Action::kRun) << parsed.error;
  EXPECT_EQ(parsed.config.threads, 5u);
}

TEST(ConfigTest, HelpAndVersion) {
  EXPECT_EQ(parse({"--help"}).action, Action::kHelp);
  EXPECT_EQ(parse({"--version"}).action, Action::kVersion);
  EXPECT_EQ(parse({"--embedded-broker", "--help"}).action, Action::kHelp);
  // The argv form lets --help win over an earlier bad flag.
  const char* argv[] = {"kafka-sidecar", "--bogus", "--help"};
  EXPECT_EQ(parseArgs(3, argv).action, Action::kHelp);
  EXPECT_NE(usageText().find("--embedded-broker[=N]"), std::string::npos);
  EXPECT_EQ(versionText().rfind("kafka-sidecar ", 0), 0u);
  EXPECT_NE(errorOf({"--help=yes"}).find("--help takes no value"), std::string::npos);
}

TEST(ConfigTest, UnknownFlagIsNamed) {
  EXPECT_EQ(errorOf({"--embedded-broker", "--bogus=1"}), "unknown flag '--bogus'");
  EXPECT_EQ(errorOf({"--embedded-broker", "--grpc"}), "unknown flag '--grpc'");
}

TEST(ConfigTest, PositionalArgumentsAreRejected) {
  EXPECT_NE(errorOf({"--embedded-broker", "3"}).find("unexpected argument '3'"), std::string::npos);
  EXPECT_NE(errorOf({"-v"}).find("unexpected argument '-v'"), std::string::npos);
}

TEST(ConfigTest, ExactlyOneClusterSource) {
  EXPECT_NE(errorOf({}).find("one of --bootstrap-servers or --embedded-broker is required"),
            std::string::npos);
  EXPECT_NE(
      errorOf({"--bootstrap-servers=a:1", "--embedded-broker"}).find("cannot be used together"),
      std::string::npos);
}

TEST(ConfigTest, MissingValue) {
  EXPECT_EQ(errorOf({"--embedded-broker", "--grpc-listen"}), "missing value for --grpc-listen");
  EXPECT_EQ(errorOf({"--bootstrap-servers"}), "missing value for --bootstrap-servers");
}

// Every bad value is rejected with a message naming both the flag and the value.
TEST(ConfigTest, BadValuesNameFlagAndValue) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"bootstrap-servers", ""},
      {"bootstrap-servers", "kafka"},
      {"bootstrap-servers", "kafka:0"},
      {"bootstrap-servers", "kafka:65536"},
      {"bootstrap-servers", "kafka:9092,"},
      {"bootstrap-servers", "a:1,,b:2"},
      {"bootstrap-servers", "::1:9092"},
      {"bootstrap-servers", "kafka:-1"},
      {"bootstrap-servers", "kafka:+1"},
      {"bootstrap-servers", "ka fka:9092"},
      {"embedded-broker", ""},
      {"embedded-broker", "0"},
      {"embedded-broker", "65"},
      {"embedded-broker", "two"},
      {"embedded-broker", "1.5"},
      {"grpc-listen", "50051"},
      {"grpc-listen", "unix:"},
      {"grpc-listen", "127.0.0.1:99999"},
      {"http-listen", "127.0.0.1"},
      {"http-listen", "127.0.0.1:http"},
      {"http-listen", "unix:/tmp/x"},
      {"client-id", ""},
      {"client-id", std::string_view("a\tb")},
      {"threads", "0"},
      {"threads", "257"},
      {"threads", "-1"},
      {"threads", "many"},
      {"log-level", "verbose"},
      {"log-level", "off"},
      {"log-level", "INFO"},
      {"acks", "2"},
      {"acks", "ALL"},
      {"acks", ""},
      {"compression", "brotli"},
      {"compression", "GZIP"},
      {"linger-ms", "-1"},
      {"linger-ms", "1.5"},
      {"linger-ms", "2147483648"},
      {"batch-size", "0"},
      {"batch-size", "1k"},
      {"buffer-memory", "0"},
      {"buffer-memory", "1099511627777"},
      {"max-request-size", "x"},
      {"enable-idempotence", "yes"},
      {"enable-idempotence", "1"},
      {"delivery-timeout-ms", "0"},
      {"request-timeout-ms", ""},
      {"request-timeout-ms", "99999999999999999999"},
  };
  for (const auto& [flag, value] : cases) {
    std::string arg = "--" + std::string(flag) + "=" + std::string(value);
    // Give the other source where this one is not under test, so only `arg` can be at fault.
    bool is_source = flag == "bootstrap-servers" || flag == "embedded-broker";
    std::string_view source = is_source ? "--threads=1" : "--embedded-broker";
    std::string message = errorOf({source, arg});
    EXPECT_NE(message.find("--" + std::string(flag)), std::string::npos) << arg << ": " << message;
    EXPECT_NE(message.find("'" + std::string(value) + "'"), std::string::npos)
        << arg << ": " << message;
  }
}

TEST(ConfigTest, ProducerDefaults) {
  ParsedArgs parsed = parse({"--embedded-broker"});
  ASSERT_EQ(parsed.action, Action::kRun) << parsed.error;
  const producer::ProducerConfig& config = parsed.config.producer;
  const producer::ProducerConfig defaults;
  EXPECT_EQ(config.acks, producer::Acks::kAll);
  EXPECT_EQ(config.compression, record::Compression::kNone);
  EXPECT_TRUE(config.idempotent());
  EXPECT_EQ(config.linger, defaults.linger);
  EXPECT_EQ(config.batch_size, defaults.batch_size);
  EXPECT_EQ(config.buffer_memory, defaults.buffer_memory);
  EXPECT_EQ(config.max_request_size, defaults.max_request_size);
  EXPECT_EQ(config.delivery_timeout, defaults.delivery_timeout);
  EXPECT_EQ(config.request_timeout, defaults.request_timeout);

  // The help text states the same defaults.
  std::string help = usageText();
  const std::vector<std::string> stated = {
      "(default all)",
      "(default none)",
      "(default " + std::to_string(defaults.linger.count()) + ")",
      "(default " + std::to_string(defaults.batch_size) + ")",
      "(default " + std::to_string(defaults.buffer_memory) + ")",
      "(default " + std::to_string(defaults.max_request_size) + ")",
      "(default " + std::to_string(defaults.delivery_timeout.count()) + ")",
      "(default " + std::to_string(defaults.request_timeout.count()) + ")"};
  for (const std::string& text : stated) {
    EXPECT_NE(help.find(text), std::string::npos) << text;
  }
}

TEST(ConfigTest, EveryProducerFlag) {
  ParsedArgs parsed = parse({"--embedded-broker", "--acks=1", "--compression", "zstd",
                             "--linger-ms=0", "--batch-size", "16384", "--buffer-memory=33554432",
                             "--max-request-size=2097152", "--enable-idempotence=false",
                             "--delivery-timeout-ms", "60000", "--request-timeout-ms=10000"});
  ASSERT_EQ(parsed.action, Action::kRun) << parsed.error;
  const producer::ProducerConfig& config = parsed.config.producer;
  EXPECT_EQ(config.acks, producer::Acks::kLeader);
  EXPECT_EQ(config.compression, record::Compression::kZstd);
  EXPECT_EQ(config.linger, std::chrono::milliseconds(0));
  EXPECT_EQ(config.batch_size, 16384u);
  EXPECT_EQ(config.buffer_memory, 33554432u);
  EXPECT_EQ(config.max_request_size, 2097152u);
  EXPECT_FALSE(config.idempotence);
  EXPECT_EQ(config.delivery_timeout, std::chrono::milliseconds(60000));
  EXPECT_EQ(config.request_timeout, std::chrono::milliseconds(10000));
}

// Parses --FLAG=TEXT for each of `cases` and expects the producer setting `Member` to be the
// value paired with TEXT.
template <auto Member, class Value>
void expectEachValue(std::string_view flag,
                     std::initializer_list<std::pair<std::string_view, Value>> cases) {
  for (const auto& [text, value] : cases) {
    std::string arg = "--" + std::string(flag) + "=" + std::string(text);
    ParsedArgs parsed = parse({"--embedded-broker", arg});
    ASSERT_EQ(parsed.action, Action::kRun) << parsed.error;
    EXPECT_EQ(parsed.config.producer.*Member, value) << arg;
  }
}

TEST(ConfigTest, EveryAcksAndCompressionValue) {
  using producer::Acks;
  expectEachValue<&producer::ProducerConfig::acks, Acks>(
      "acks", {{"all", Acks::kAll}, {"-1", Acks::kAll}, {"1", Acks::kLeader}, {"0", Acks::kNone}});
  using record::Compression;
  expectEachValue<&producer::ProducerConfig::compression, Compression>(
      "compression", {{"none", Compression::kNone},
                      {"gzip", Compression::kGzip},
                      {"snappy", Compression::kSnappy},
                      {"lz4", Compression::kLz4},
                      {"zstd", Compression::kZstd}});
}

// Idempotence is off with acks 0 or 1 unless asked for, and asking for it with them is an error.
TEST(ConfigTest, IdempotenceNeedsAcksAll) {
  ParsedArgs leader = parse({"--embedded-broker", "--acks=1"});
  ASSERT_EQ(leader.action, Action::kRun) << leader.error;
  EXPECT_FALSE(leader.config.producer.idempotent());
  EXPECT_EQ(errorOf({"--embedded-broker", "--enable-idempotence=true", "--acks=0"}),
            "--enable-idempotence=true needs --acks=all");
  ParsedArgs off = parse({"--embedded-broker", "--enable-idempotence=false", "--acks=0"});
  EXPECT_EQ(off.action, Action::kRun) << off.error;
}

// Values that are fine alone but do not fit together: the producer's own check, in flag names.
TEST(ConfigTest, ProducerSettingsMustFitTogether) {
  EXPECT_EQ(errorOf({"--embedded-broker", "--buffer-memory=2000000", "--max-request-size=3000000"}),
            "invalid producer settings: --buffer-memory (2000000) must be at least "
            "--max-request-size (3000000)");
  std::string message =
      errorOf({"--embedded-broker", "--delivery-timeout-ms=1000", "--request-timeout-ms=2000"});
  EXPECT_NE(message.find("--delivery-timeout-ms (1000)"), std::string::npos) << message;
  EXPECT_NE(message.find("--linger-ms + --request-timeout-ms (2005)"), std::string::npos)
      << message;
  EXPECT_NE(errorOf({"--embedded-broker", "--max-request-size=1000"}).find("--max-request-size"),
            std::string::npos);
}

TEST(ConfigTest, LongClientIdIsRejected) {
  std::string arg = "--client-id=" + std::string(256, 'x');
  EXPECT_NE(errorOf({"--embedded-broker", arg}).find("--client-id"), std::string::npos);
}

TEST(ConfigTest, ListenAddressParsing) {
  EXPECT_EQ(parseListenAddress("localhost:9092"), (net::HostPort{"localhost", 9092}));
  EXPECT_EQ(parseListenAddress("[fe80::1%eth0]:1"), (net::HostPort{"fe80::1%eth0", 1}));
  EXPECT_EQ(parseListenAddress("10.0.0.1:0"), (net::HostPort{"10.0.0.1", 0}));
  EXPECT_FALSE(parseListenAddress("[::1]9092"));
  EXPECT_FALSE(parseListenAddress("[]:1"));
  EXPECT_FALSE(parseListenAddress("::1:80"));
  EXPECT_FALSE(parseListenAddress(":9092"));
  EXPECT_FALSE(parseListenAddress("host:"));
  EXPECT_FALSE(parseListenAddress("host:000009092"));
  EXPECT_FALSE(parseListenAddress("ho st:80"));
}

TEST(ConfigTest, ConsumerSessionFlags) {
  ParsedArgs defaults = parse({"--embedded-broker"});
  ASSERT_EQ(defaults.action, Action::kRun) << defaults.error;
  const ConsumerSessionConfig& consumer = defaults.config.consumer;
  EXPECT_EQ(consumer.offset_reset, consumer::OffsetReset::kLatest);
  EXPECT_EQ(consumer.idle_ttl, std::chrono::milliseconds(60000));
  EXPECT_EQ(consumer.max_sessions, 10000u);
  std::string help = usageText();
  for (std::string_view text : {"(default latest)", "(default 60000)", "(default 10000)"}) {
    EXPECT_NE(help.find(text), std::string::npos) << text;
  }

  ParsedArgs set = parse({"--embedded-broker", "--auto-offset-reset=earliest",
                          "--consumer-session-idle-ttl-ms", "1500", "--max-consumer-sessions=3"});
  ASSERT_EQ(set.action, Action::kRun) << set.error;
  EXPECT_EQ(set.config.consumer.offset_reset, consumer::OffsetReset::kEarliest);
  EXPECT_EQ(set.config.consumer.idle_ttl, std::chrono::milliseconds(1500));
  EXPECT_EQ(set.config.consumer.max_sessions, 3u);
  EXPECT_EQ(parse({"--embedded-broker", "--auto-offset-reset=none"}).config.consumer.offset_reset,
            consumer::OffsetReset::kNone);

  EXPECT_EQ(errorOf({"--embedded-broker", "--auto-offset-reset=smallest"}),
            "invalid value 'smallest' for --auto-offset-reset: expected earliest, latest or none");
  EXPECT_TRUE(parse({"--embedded-broker"}).config.consumer.check_crcs);
  EXPECT_FALSE(parse({"--embedded-broker", "--check-crcs=false"}).config.consumer.check_crcs);
  EXPECT_EQ(errorOf({"--embedded-broker", "--check-crcs=no"}),
            "invalid value 'no' for --check-crcs: expected true or false");
  EXPECT_EQ(errorOf({"--embedded-broker", "--consumer-session-idle-ttl-ms=0"}),
            "invalid value '0' for --consumer-session-idle-ttl-ms: expected an integer from 1 to "
            "2147483647");
  EXPECT_EQ(errorOf({"--embedded-broker", "--max-consumer-sessions=-1"}),
            "invalid value '-1' for --max-consumer-sessions: expected an integer from 1 to "
            "1000000");
}

}  // namespace
}  // namespace kafka::sidecar
