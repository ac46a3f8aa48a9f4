// The settings of kafka-sidecar: every flag, both value forms, environment variables, the YAML
// file, their precedence, and the errors.
#include "server/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace kafka::sidecar {
namespace {

using Action = ParsedArgs::Action;

ParsedArgs parse(std::vector<std::string_view> args, const Environment& env = {}) {
  return parseArgs(args, env);
}

// Parses `args` expecting a usage error, and returns its message.
std::string errorOf(std::vector<std::string_view> args, const Environment& env = {}) {
  ParsedArgs parsed = parse(args, env);
  EXPECT_EQ(parsed.action, Action::kError) << "no error for " << ::testing::PrintToString(args);
  return parsed.error;
}

// A YAML file in the test's temporary directory, removed when it goes.
class YamlFile {
 public:
  explicit YamlFile(std::string_view text) {
    static int count = 0;
    path_ = ::testing::TempDir() + "config_test_" + std::to_string(getpid()) + "_" +
            std::to_string(++count) + ".yaml";
    std::ofstream(path_) << text;
  }
  ~YamlFile() { std::filesystem::remove(path_); }
  YamlFile(const YamlFile&) = delete;
  YamlFile& operator=(const YamlFile&) = delete;

  const std::string& path() const { return path_; }
  std::string flag() const { return "--config=" + path_; }
  // "PATH:LINE", as messages name a key.
  std::string at(int line) const { return path_ + ":" + std::to_string(line); }

 private:
  std::string path_;
};

// Parses the file holding `yaml` (and `args`), expecting a usage error; returns its message.
std::string fileErrorOf(const YamlFile& file, std::vector<std::string_view> args = {}) {
  std::string flag = file.flag();
  args.push_back(flag);
  return errorOf(args);
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
  EXPECT_EQ(config.log_format, log::Format::kText);
  EXPECT_EQ(config.threads, defaultThreadCount());
  EXPECT_GE(config.threads, 1u);
}

TEST(ConfigTest, EveryFlagWithEqualsForm) {
  ParsedArgs parsed =
      parse({"--bootstrap-servers=k1:9092,[::1]:9093,k3.example.com:19092",
             "--grpc-listen=0.0.0.0:0", "--http-listen=[::1]:0", "--client-id=orders-app",
             "--threads=3", "--log-level=debug", "--log-format=json"});
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
  EXPECT_EQ(config.log_format, log::Format::kJson);
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
  EXPECT_NE(
      errorOf({"--embedded-broker", "--api-version-cap=ListOffsets:-1"}).find("--api-version-cap"),
      std::string::npos);
}

TEST(ConfigTest, NamedClustersAddToTheDefault) {
  ParsedArgs parsed = parse({"--bootstrap-servers=k1:9092", "--cluster=analytics=a1:9092,a2:9092",
                             "--cluster", "eu.west-1=e1:9093"});
  ASSERT_EQ(parsed.action, Action::kRun) << parsed.error;
  EXPECT_EQ(parsed.config.named_clusters,
            (std::map<std::string, std::vector<std::string>>{{"analytics", {"a1:9092", "a2:9092"}},
                                                             {"eu.west-1", {"e1:9093"}}}));
}

TEST(ConfigTest, NamedClusterErrorsNameTheFault) {
  EXPECT_NE(errorOf({"--embedded-broker", "--cluster=analytics"}).find("NAME=host:port"),
            std::string::npos);
  EXPECT_NE(errorOf({"--embedded-broker", "--cluster=default=k:1"}).find("default cluster"),
            std::string::npos);
  EXPECT_NE(errorOf({"--embedded-broker", "--cluster=a b=k:1"}).find("NAME: letters"),
            std::string::npos);
  EXPECT_NE(
      errorOf({"--embedded-broker", "--cluster=x=k:0"}).find("invalid value 'x=k:0' for --cluster"),
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
      {"http-listen", "unix:"},
      {"client-id", ""},
      {"client-id", std::string_view("a\tb")},
      {"threads", "0"},
      {"threads", "257"},
      {"threads", "-1"},
      {"threads", "many"},
      {"log-level", "verbose"},
      {"log-level", "off"},
      {"log-level", "INFO"},
      {"log-format", "JSON"},
      {"log-format", "logfmt"},
      {"log-format", ""},
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
      {"fetch-max-wait-ms", "-1"},
      {"fetch-max-wait-ms", "2147483648"},
      {"fetch-busy-max-wait-ms", "x"},
      {"fetch-min-bytes", "0"},
      {"fetch-max-bytes", "0"},
      {"fetch-max-bytes", "2147483648"},
      {"max-partition-fetch-bytes", "65535"},
      {"fetch-max-buffered-bytes", "0"},
      {"consumer-session-max-buffered-bytes", "1099511627777"},
      {"config", ""},
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
            "idempotence needs acks=all: --enable-idempotence is 'true' and --acks is '0'");
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

TEST(ConfigTest, FetchFlags) {
  ParsedArgs defaults = parse({"--embedded-broker"});
  ASSERT_EQ(defaults.action, Action::kRun) << defaults.error;
  const consumer::FetchConfig kafka_defaults;
  const consumer::FetchConfig& fetch = defaults.config.consumer.fetch;
  EXPECT_EQ(fetch.max_wait, kafka_defaults.max_wait);
  EXPECT_EQ(fetch.busy_max_wait, kafka_defaults.busy_max_wait);
  EXPECT_EQ(fetch.min_bytes, kafka_defaults.min_bytes);
  EXPECT_EQ(fetch.max_bytes, kafka_defaults.max_bytes);
  EXPECT_EQ(fetch.partition_max_bytes, kafka_defaults.partition_max_bytes);
  EXPECT_EQ(fetch.max_buffered_bytes, kafka_defaults.max_buffered_bytes);
  EXPECT_EQ(defaults.config.consumer.max_buffered_bytes,
            consumer::ConsumerConfig{}.max_buffered_bytes);
  std::string help = usageText();
  for (auto number : {kafka_defaults.max_wait.count(), kafka_defaults.busy_max_wait.count()}) {
    EXPECT_NE(help.find("(default " + std::to_string(number) + ")"), std::string::npos) << number;
  }

  ParsedArgs set = parse({"--embedded-broker", "--fetch-max-wait-ms=0", "--fetch-busy-max-wait-ms",
                          "3", "--fetch-min-bytes=100", "--fetch-max-bytes=2000000",
                          "--max-partition-fetch-bytes=65536", "--fetch-max-buffered-bytes=1000",
                          "--consumer-session-max-buffered-bytes=4096"});
  ASSERT_EQ(set.action, Action::kRun) << set.error;
  const ConsumerSessionConfig& consumer = set.config.consumer;
  EXPECT_EQ(consumer.fetch.max_wait, std::chrono::milliseconds(0));
  EXPECT_EQ(consumer.fetch.busy_max_wait, std::chrono::milliseconds(3));
  EXPECT_EQ(consumer.fetch.min_bytes, 100);
  EXPECT_EQ(consumer.fetch.max_bytes, 2000000);
  EXPECT_EQ(consumer.fetch.partition_max_bytes, 65536);
  EXPECT_EQ(consumer.fetch.max_buffered_bytes, 1000u);
  EXPECT_EQ(consumer.max_buffered_bytes, 4096u);

  EXPECT_EQ(errorOf({"--embedded-broker", "--max-partition-fetch-bytes=1000"}),
            "invalid value '1000' for --max-partition-fetch-bytes: expected an integer from 65536 "
            "to 2147483647");
  EXPECT_EQ(errorOf({"--embedded-broker", "--fetch-min-bytes=2000", "--fetch-max-bytes=1000"}),
            "--fetch-min-bytes (2000) must be at most --fetch-max-bytes (1000)");
}

TEST(ConfigTest, ShutdownTimeout) {
  ParsedArgs defaults = parse({"--embedded-broker"});
  ASSERT_EQ(defaults.action, Action::kRun) << defaults.error;
  EXPECT_EQ(defaults.config.shutdown_timeout, std::chrono::milliseconds(30'000));
  EXPECT_NE(usageText().find("--shutdown-timeout-ms=N"), std::string::npos);
  EXPECT_NE(usageText().find("(default 30000)"), std::string::npos);

  EXPECT_EQ(parse({"--embedded-broker", "--shutdown-timeout-ms=1"}).config.shutdown_timeout,
            std::chrono::milliseconds(1));
  const Environment env = {{"KAFKA_SIDECAR_SHUTDOWN_TIMEOUT_MS", "45000"}};
  EXPECT_EQ(parse({"--embedded-broker"}, env).config.shutdown_timeout,
            std::chrono::milliseconds(45'000));
  YamlFile file("embedded-broker: 1\nshutdown-timeout-ms: 3600000\n");
  EXPECT_EQ(parse({file.flag()}).config.shutdown_timeout, std::chrono::milliseconds(3'600'000));

  for (std::string_view bad : {"0", "3600001", "-5", "10s"}) {
    std::string flag = "--shutdown-timeout-ms=" + std::string(bad);
    EXPECT_EQ(errorOf({"--embedded-broker", flag}),
              "invalid value '" + std::string(bad) +
                  "' for --shutdown-timeout-ms: expected an integer from 1 to 3600000");
  }
}

TEST(ConfigTest, NamesDeriveFromTheFlag) {
  std::map<std::string, SettingNames> by_flag;
  for (SettingNames& names : settingNames()) by_flag[names.flag] = names;
  ASSERT_TRUE(by_flag.contains("--bootstrap-servers"));
  EXPECT_EQ(by_flag["--bootstrap-servers"].env, "KAFKA_SIDECAR_BOOTSTRAP_SERVERS");
  EXPECT_EQ(by_flag["--bootstrap-servers"].yaml_key, "bootstrap-servers");
  EXPECT_EQ(by_flag["--bootstrap-servers"].section_key, "");
  EXPECT_EQ(by_flag["--linger-ms"].env, "KAFKA_SIDECAR_LINGER_MS");
  EXPECT_EQ(by_flag["--linger-ms"].section_key, "producer: linger.ms");
  EXPECT_EQ(by_flag["--compression"].section_key, "producer: compression.type");
  EXPECT_EQ(by_flag["--fetch-max-wait-ms"].section_key, "consumer: fetch.max.wait.ms");
  EXPECT_EQ(by_flag["--config"].env, "KAFKA_SIDECAR_CONFIG");
  EXPECT_EQ(by_flag["--config"].yaml_key, "");
  EXPECT_EQ(by_flag["--help"].env, "");
  EXPECT_EQ(by_flag["--version"].yaml_key, "");
}

// Each level wins over those below it: flag > environment > file > default.
TEST(ConfigTest, PrecedenceOfTheFourLevels) {
  YamlFile file(
      "embedded-broker: 1\n"
      "threads: 2\n"
      "linger-ms: 7\n"
      "batch-size: 2048\n");
  const Environment env = {{"KAFKA_SIDECAR_THREADS", "3"}, {"KAFKA_SIDECAR_LINGER_MS", "8"}};
  std::string config = file.flag();

  ParsedArgs all = parse({config, "--threads=4"}, env);
  ASSERT_EQ(all.action, Action::kRun) << all.error;
  EXPECT_EQ(all.config.threads, 4u);                                    // flag
  EXPECT_EQ(all.config.producer.linger, std::chrono::milliseconds(8));  // environment
  EXPECT_EQ(all.config.producer.batch_size, 2048u);                     // file
  EXPECT_EQ(all.config.producer.buffer_memory, producer::ProducerConfig{}.buffer_memory);
  EXPECT_EQ(all.config_file, file.path());

  EXPECT_EQ(parse({config}, env).config.threads, 3u);
  EXPECT_EQ(parse({config}).config.threads, 2u);
  EXPECT_EQ(parse({"--embedded-broker"}).config.threads, defaultThreadCount());
  EXPECT_EQ(parse({"--embedded-broker"}).config_file, "");
}

// For repeatable settings, the level that wins gives every entry.
TEST(ConfigTest, RepeatableSettingsComeWholeFromOneLevel) {
  YamlFile file(
      "embedded-broker: 1\n"
      "cluster:\n"
      "  a: x:1\n"
      "  b: [y:2, y:3]\n"
      "api-version-cap: {ListOffsets: 3}\n");
  using Clusters = std::map<std::string, std::vector<std::string>>;
  using Caps = std::map<protocol::ApiKey, int16_t>;
  std::string config = file.flag();

  ParsedArgs from_file = parse({config});
  ASSERT_EQ(from_file.action, Action::kRun) << from_file.error;
  EXPECT_EQ(from_file.config.named_clusters, (Clusters{{"a", {"x:1"}}, {"b", {"y:2", "y:3"}}}));
  EXPECT_EQ(from_file.config.api_version_caps, (Caps{{protocol::ApiKey::kListOffsets, 3}}));

  const Environment env = {{"KAFKA_SIDECAR_CLUSTER", "c=z:4,z:5;d=w:6"},
                           {"KAFKA_SIDECAR_API_VERSION_CAP", "Metadata:1;Fetch:11"}};
  ParsedArgs from_env = parse({config}, env);
  ASSERT_EQ(from_env.action, Action::kRun) << from_env.error;
  EXPECT_EQ(from_env.config.named_clusters, (Clusters{{"c", {"z:4", "z:5"}}, {"d", {"w:6"}}}));
  EXPECT_EQ(from_env.config.api_version_caps,
            (Caps{{protocol::ApiKey::kMetadata, 1}, {protocol::ApiKey::kFetch, 11}}));

  ParsedArgs from_flags = parse({config, "--cluster=e=v:7"}, env);
  ASSERT_EQ(from_flags.action, Action::kRun) << from_flags.error;
  EXPECT_EQ(from_flags.config.named_clusters, (Clusters{{"e", {"v:7"}}}));
  EXPECT_EQ(from_flags.config.api_version_caps.size(), 2u);  // still the environment's
}

// A value that a higher level overrides is still checked: it is a mistake where it stands.
TEST(ConfigTest, OverriddenValuesAreStillChecked) {
  YamlFile threads("threads: zero\n");
  EXPECT_EQ(errorOf({"--embedded-broker", threads.flag(), "--threads=2"}),
            "invalid value 'zero' for threads in " + threads.at(1) +
                ": expected an integer from 1 to 256");
  YamlFile clusters("cluster: {default: k:1}\n");
  EXPECT_NE(errorOf({"--embedded-broker", clusters.flag(), "--cluster=a=b:1"})
                .find("invalid value 'default=k:1' for cluster in " + clusters.at(1)),
            std::string::npos);
}

TEST(ConfigTest, EnvironmentVariables) {
  const Environment env = {
      {"KAFKA_SIDECAR_BOOTSTRAP_SERVERS", "a:1,b:2"},
      {"KAFKA_SIDECAR_ACKS", "1"},
      {"KAFKA_SIDECAR_ENABLE_IDEMPOTENCE", "false"},
      {"KAFKA_SIDECAR_CHECK_CRCS", "false"},
      {"KAFKA_SIDECAR_FETCH_MAX_WAIT_MS", "250"},
      {"KAFKA_SIDECAR_GRPC_LISTEN", "unix:/tmp/s.sock"},
      // Empty: unset. The others name no setting (Kubernetes sets such variables for a Service
      // called kafka-sidecar) or a flag-only setting, and are ignored.
      {"KAFKA_SIDECAR_CLIENT_ID", ""},
      {"KAFKA_SIDECAR_SERVICE_HOST", "10.0.0.1"},
      {"KAFKA_SIDECAR_HELP", "1"},
      {"THREADS", "9"},
  };
  ParsedArgs parsed = parse({}, env);
  ASSERT_EQ(parsed.action, Action::kRun) << parsed.error;
  EXPECT_EQ(parsed.config.bootstrap_servers, (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_EQ(parsed.config.producer.acks, producer::Acks::kLeader);
  EXPECT_FALSE(parsed.config.producer.idempotence);
  EXPECT_FALSE(parsed.config.consumer.check_crcs);
  EXPECT_EQ(parsed.config.consumer.fetch.max_wait, std::chrono::milliseconds(250));
  EXPECT_EQ(parsed.config.grpc_listen, "unix:/tmp/s.sock");
  EXPECT_EQ(parsed.config.client_id, "kafka-sidecar");
  EXPECT_EQ(parsed.config.threads, defaultThreadCount());

  ParsedArgs embedded = parse({}, {{"KAFKA_SIDECAR_EMBEDDED_BROKER", "2"}});
  ASSERT_EQ(embedded.action, Action::kRun) << embedded.error;
  EXPECT_EQ(embedded.config.embedded_brokers, 2);

  EXPECT_EQ(errorOf({"--embedded-broker"}, {{"KAFKA_SIDECAR_THREADS", "zero"}}),
            "invalid value 'zero' for KAFKA_SIDECAR_THREADS: expected an integer from 1 to 256");
  // Entries are split at ';' and each is checked as a flag's value would be.
  EXPECT_NE(errorOf({"--embedded-broker"}, {{"KAFKA_SIDECAR_CLUSTER", "a=x:1;"}})
                .find("invalid value '' for KAFKA_SIDECAR_CLUSTER"),
            std::string::npos);
  EXPECT_NE(errorOf({"--embedded-broker"}, {{"KAFKA_SIDECAR_API_VERSION_CAP", "Nope:1"}})
                .find("for KAFKA_SIDECAR_API_VERSION_CAP: expected API:VERSION"),
            std::string::npos);
}

// Checks across settings name where each value came from.
TEST(ConfigTest, ConflictsNameTheirSources) {
  EXPECT_EQ(errorOf({"--embedded-broker"}, {{"KAFKA_SIDECAR_BOOTSTRAP_SERVERS", "k:1"}}),
            "KAFKA_SIDECAR_BOOTSTRAP_SERVERS and --embedded-broker cannot be used together");
  YamlFile file("embedded-broker: 1\nproducer:\n  enable.idempotence: true\n");
  EXPECT_EQ(errorOf({file.flag()}, {{"KAFKA_SIDECAR_ACKS", "0"}}),
            "idempotence needs acks=all: producer.enable.idempotence in " + file.at(3) +
                " is 'true' and KAFKA_SIDECAR_ACKS is '0'");
  YamlFile sizes("embedded-broker: 1\nmax-request-size: 3000000\n");
  EXPECT_EQ(errorOf({sizes.flag()}, {{"KAFKA_SIDECAR_BUFFER_MEMORY", "2000000"}}),
            "invalid producer settings: KAFKA_SIDECAR_BUFFER_MEMORY (2000000) must be at least "
            "max-request-size in " +
                sizes.at(2) + " (3000000)");
  EXPECT_EQ(errorOf({"--embedded-broker", "--fetch-max-bytes=10"},
                    {{"KAFKA_SIDECAR_FETCH_MIN_BYTES", "11"}}),
            "KAFKA_SIDECAR_FETCH_MIN_BYTES (11) must be at most --fetch-max-bytes (10)");
  EXPECT_NE(errorOf({}).find("one of --bootstrap-servers or --embedded-broker is required"),
            std::string::npos);
}

TEST(ConfigTest, ConfigFileNamedByTheEnvironment) {
  YamlFile from_env("embedded-broker: 2\n");
  YamlFile from_flag("embedded-broker: 3\n");
  ParsedArgs parsed = parse({}, {{"KAFKA_SIDECAR_CONFIG", from_env.path()}});
  ASSERT_EQ(parsed.action, Action::kRun) << parsed.error;
  EXPECT_EQ(parsed.config.embedded_brokers, 2);
  EXPECT_EQ(parsed.config_file, from_env.path());
  // --config wins over KAFKA_SIDECAR_CONFIG.
  parsed = parse({from_flag.flag()}, {{"KAFKA_SIDECAR_CONFIG", from_env.path()}});
  ASSERT_EQ(parsed.action, Action::kRun) << parsed.error;
  EXPECT_EQ(parsed.config.embedded_brokers, 3);
  EXPECT_EQ(parsed.config_file, from_flag.path());
}

TEST(ConfigTest, YamlFileWithSections) {
  YamlFile file(R"(# every form a value can take
bootstrap-servers:
  - k1:9092
  - "[::1]:9093"
grpc-listen: 127.0.0.1:0
http-listen: "127.0.0.1:0"
client-id: orders
log-level: debug
consumer-session-idle-ttl-ms: 1500
fetch-busy-max-wait-ms: 2
fetch-max-buffered-bytes: 1048576
consumer-session-max-buffered-bytes: 65536
producer:
  acks: 1
  compression.type: lz4
  linger.ms: 20
  batch.size: 16384
  buffer.memory: 33554432
  max.request.size: 2097152
  enable.idempotence: false
  delivery.timeout.ms: 60000
  request.timeout.ms: 10000
consumer:
  auto.offset.reset: earliest
  check.crcs: false
  fetch.max.wait.ms: 100
  fetch.min.bytes: 10
  fetch.max.bytes: 1000000
  max.partition.fetch.bytes: 131072
)");
  ParsedArgs parsed = parse({file.flag()});
  ASSERT_EQ(parsed.action, Action::kRun) << parsed.error;
  const DaemonConfig& config = parsed.config;
  EXPECT_EQ(config.bootstrap_servers, (std::vector<std::string>{"k1:9092", "[::1]:9093"}));
  EXPECT_EQ(config.grpc_listen, "127.0.0.1:0");
  EXPECT_EQ(config.http_listen, (net::HostPort{"127.0.0.1", 0}));
  EXPECT_EQ(config.client_id, "orders");
  EXPECT_EQ(config.log_level, log::Level::kDebug);
  EXPECT_EQ(config.producer.acks, producer::Acks::kLeader);
  EXPECT_EQ(config.producer.compression, record::Compression::kLz4);
  EXPECT_EQ(config.producer.linger, std::chrono::milliseconds(20));
  EXPECT_EQ(config.producer.batch_size, 16384u);
  EXPECT_EQ(config.producer.buffer_memory, 33554432u);
  EXPECT_EQ(config.producer.max_request_size, 2097152u);
  EXPECT_FALSE(config.producer.idempotence);
  EXPECT_EQ(config.producer.delivery_timeout, std::chrono::milliseconds(60000));
  EXPECT_EQ(config.producer.request_timeout, std::chrono::milliseconds(10000));
  EXPECT_EQ(config.consumer.offset_reset, consumer::OffsetReset::kEarliest);
  EXPECT_EQ(config.consumer.idle_ttl, std::chrono::milliseconds(1500));
  EXPECT_FALSE(config.consumer.check_crcs);
  EXPECT_EQ(config.consumer.max_buffered_bytes, 65536u);
  EXPECT_EQ(config.consumer.fetch.max_wait, std::chrono::milliseconds(100));
  EXPECT_EQ(config.consumer.fetch.busy_max_wait, std::chrono::milliseconds(2));
  EXPECT_EQ(config.consumer.fetch.min_bytes, 10);
  EXPECT_EQ(config.consumer.fetch.max_bytes, 1000000);
  EXPECT_EQ(config.consumer.fetch.partition_max_bytes, 131072);
  EXPECT_EQ(config.consumer.fetch.max_buffered_bytes, 1048576u);

  // A string list, and files that set nothing.
  YamlFile string_list("bootstrap-servers: a:1,b:2\n");
  EXPECT_EQ(parse({string_list.flag()}).config.bootstrap_servers,
            (std::vector<std::string>{"a:1", "b:2"}));
  YamlFile comments("# nothing yet\nproducer:\n");
  ParsedArgs empty = parse({comments.flag(), "--embedded-broker"});
  ASSERT_EQ(empty.action, Action::kRun) << empty.error;
  EXPECT_EQ(empty.config.producer.linger, producer::ProducerConfig{}.linger);
}

TEST(ConfigTest, YamlUnknownKeys) {
  YamlFile top("embedded-broker: 1\nlingr-ms: 5\n");
  EXPECT_EQ(fileErrorOf(top), "unknown key 'lingr-ms' in " + top.at(2) +
                                  "; keys are the flags' names without '--', and the sections "
                                  "producer and consumer");
  YamlFile kafka_name("linger.ms: 5\n");
  EXPECT_EQ(fileErrorOf(kafka_name), "unknown key 'linger.ms' in " + kafka_name.at(1) +
                                         "; Kafka's names go under their section (producer: "
                                         "linger.ms) or use 'linger-ms'");
  YamlFile section("producer:\n  acks: all\n  retries: 3\n");
  EXPECT_EQ(fileErrorOf(section),
            "unknown key 'producer.retries' in " + section.at(3) +
                "; producer takes acks, compression.type, linger.ms, batch.size, buffer.memory, "
                "max.request.size, enable.idempotence, delivery.timeout.ms, request.timeout.ms");
  // A producer setting under consumer: is unknown there.
  YamlFile wrong_section("consumer:\n  linger.ms: 5\n");
  EXPECT_NE(
      fileErrorOf(wrong_section).find("unknown key 'consumer.linger.ms' in " + wrong_section.at(2)),
      std::string::npos);
  YamlFile flag_only("help: true\n");
  EXPECT_NE(fileErrorOf(flag_only).find("unknown key 'help'"), std::string::npos);
  YamlFile nested("config: other.yaml\n");
  EXPECT_EQ(fileErrorOf(nested), "key 'config' in " + nested.at(1) +
                                     ": a config file cannot name another; give --config or "
                                     "KAFKA_SIDECAR_CONFIG");
}

TEST(ConfigTest, YamlWrongTypes) {
  const std::pair<std::string_view, std::string> cases[] = {
      {"threads: [1, 2]\n", "wrong type for threads in @1: expected a single value, got a list"},
      {"threads: {a: 1}\n", "wrong type for threads in @1: expected a single value, got a map"},
      {"threads:\n", "wrong type for threads in @1: expected a single value, got nothing"},
      {"bootstrap-servers: [[a:1]]\n",
       "wrong type for bootstrap-servers in @1: expected a string or a list of strings, got a "
       "list"},
      {"cluster: a=x:1\n",
       "wrong type for cluster in @1: expected a map of NAME: LIST, got 'a=x:1'"},
      {"cluster:\n  a: {x: 1}\n", "wrong type for cluster in @2: expected a map of NAME: LIST"},
      {"api-version-cap: [ListOffsets:3]\n",
       "wrong type for api-version-cap in @1: expected a map of API: V, got a list"},
      {"producer: [acks]\n",
       "wrong type for producer in @1: expected a map of Kafka settings, got a list"},
      {"consumer:\n  check.crcs: [true]\n",
       "wrong type for consumer.check.crcs in @2: expected a single value, got a list"},
      {"- threads\n", "wrong type for the top level of @1: expected a map of settings, got a list"},
      {"[a, b]: 1\n", "wrong type for a key in @1: expected a setting's name, got a list"},
  };
  for (const auto& [yaml, expected] : cases) {
    YamlFile file(yaml);
    std::string message = expected;
    message.replace(message.find('@'), 1, file.path() + ":");
    EXPECT_EQ(fileErrorOf(file, {"--embedded-broker"}), message) << yaml;
  }
}

TEST(ConfigTest, YamlBadValuesNameFileKeyLineAndValue) {
  YamlFile top("embedded-broker: 1\nfetch-max-wait-ms: soon\n");
  EXPECT_EQ(fileErrorOf(top), "invalid value 'soon' for fetch-max-wait-ms in " + top.at(2) +
                                  ": expected an integer from 0 to 2147483647");
  YamlFile section("embedded-broker: 1\nproducer:\n  compression.type: brotli\n");
  EXPECT_EQ(fileErrorOf(section), "invalid value 'brotli' for producer.compression.type in " +
                                      section.at(3) +
                                      ": expected one of none, gzip, snappy, lz4, zstd");
  // YAML's other spellings of booleans are not ours.
  YamlFile yes("embedded-broker: 1\nconsumer:\n  check.crcs: yes\n");
  EXPECT_EQ(fileErrorOf(yes), "invalid value 'yes' for consumer.check.crcs in " + yes.at(3) +
                                  ": expected true or false");
  YamlFile entry("embedded-broker: 1\ncluster:\n  ok: a:1\n  bad: a:0\n");
  EXPECT_NE(fileErrorOf(entry).find("invalid value 'bad=a:0' for cluster in " + entry.at(4)),
            std::string::npos);
  YamlFile list("bootstrap-servers: [a:1, 'b']\n");
  EXPECT_NE(fileErrorOf(list).find("invalid value 'a:1,b' for bootstrap-servers in " + list.at(1)),
            std::string::npos);
}

TEST(ConfigTest, YamlKeySetTwice) {
  YamlFile both("embedded-broker: 1\nlinger-ms: 5\nproducer:\n  linger.ms: 6\n");
  EXPECT_EQ(fileErrorOf(both), "--linger-ms is set twice in " + both.path() + ": by linger-ms in " +
                                   both.at(2) + " and by producer.linger.ms in " + both.at(4));
  YamlFile repeated("embedded-broker: 1\nthreads: 1\nthreads: 2\n");
  EXPECT_EQ(fileErrorOf(repeated), "--threads is set twice in " + repeated.path() +
                                       ": by threads in " + repeated.at(2) + " and by threads in " +
                                       repeated.at(3));
}

TEST(ConfigTest, YamlFileThatCannotBeRead) {
  std::string missing = ::testing::TempDir() + "config_test_no_such_file.yaml";
  EXPECT_EQ(errorOf({"--embedded-broker", "--config", missing}),
            "cannot read config file '" + missing + "' (from --config): No such file or directory");
  EXPECT_EQ(errorOf({"--embedded-broker"}, {{"KAFKA_SIDECAR_CONFIG", missing}}),
            "cannot read config file '" + missing +
                "' (from KAFKA_SIDECAR_CONFIG): No such file or directory");
  std::string directory = ::testing::TempDir();
  EXPECT_NE(errorOf({"--embedded-broker", "--config", directory}).find("it is a directory"),
            std::string::npos);

  YamlFile malformed("embedded-broker: 1\nthreads: [1, 2\n");
  std::string message = fileErrorOf(malformed);
  EXPECT_EQ(message.rfind("malformed YAML in " + malformed.at(3) + ": ", 0), 0u) << message;
  YamlFile bad_indent("producer:\n  acks: 1\n linger.ms: 5\n");
  EXPECT_EQ(fileErrorOf(bad_indent).rfind("malformed YAML in " + bad_indent.path() + ":", 0), 0u);
  YamlFile two("embedded-broker: 1\n---\nthreads: 2\n");
  EXPECT_EQ(fileErrorOf(two),
            "config file '" + two.path() + "' holds 2 YAML documents; put every setting in one");
}

// A bad variable or file does not stand in the way of --help.
TEST(ConfigTest, HelpIgnoresTheOtherSources) {
  EXPECT_EQ(parse({"--help"}, {{"KAFKA_SIDECAR_THREADS", "zero"}}).action, Action::kHelp);
  EXPECT_EQ(parse({"--config=/nonexistent.yaml", "--help"}).action, Action::kHelp);
}

TEST(ConfigTest, HelpFitsIn100Columns) {
  std::istringstream help(usageText());
  for (std::string line; std::getline(help, line);) {
    EXPECT_LE(line.size(), 100u) << line;
  }
}

// The "## Configuration" section of README.md.
std::string readmeConfiguration() {
  std::ifstream in(std::string(KS_SOURCE_DIR) + "/README.md");
  std::stringstream text;
  text << in.rdbuf();
  std::string readme = text.str();
  size_t begin = readme.find("\n## Configuration\n");
  if (begin == std::string::npos) return {};
  return readme.substr(begin, readme.find("\n## ", begin + 1) - begin);
}

// --help and the README's table list every setting, with its variable and YAML keys.
TEST(ConfigTest, EverySettingIsDocumented) {
  // The help with its lines joined, as a phrase may wrap.
  std::string help;
  std::istringstream help_lines(usageText());
  for (std::string word; help_lines >> word;) help += " " + word;
  std::string readme = readmeConfiguration();
  ASSERT_FALSE(readme.empty()) << "README.md has no Configuration section";
  for (const SettingNames& names : settingNames()) {
    EXPECT_NE(help.find(" " + names.flag), std::string::npos) << names.flag;
    if (!names.env.empty()) {
      EXPECT_NE(help.find("env " + names.env), std::string::npos) << names.env;
    }
    if (!names.yaml_key.empty()) {
      EXPECT_NE(help.find("yaml " + names.yaml_key), std::string::npos) << names.yaml_key;
    }
    if (!names.section_key.empty()) {
      EXPECT_NE(help.find(names.section_key), std::string::npos) << names.section_key;
    }
    // A row of the table starts with the flag, and names the section key in it.
    size_t row = readme.find("\n| `" + names.flag);
    EXPECT_NE(row, std::string::npos) << names.flag << " has no row in README.md";
    if (row == std::string::npos || names.section_key.empty()) continue;
    std::string line = readme.substr(row + 1, readme.find('\n', row + 1) - row - 1);
    std::string kafka_name = names.section_key.substr(names.section_key.find(' ') + 1);
    EXPECT_NE(line.find("`" + kafka_name + "`"), std::string::npos)
        << names.flag << "'s row does not name " << kafka_name;
  }
}

// A file of `text` in the test's temporary directory, removed when it goes.
class TempFile {
 public:
  TempFile(std::string_view name, std::string_view text)
      : path_(::testing::TempDir() + "config_test_" + std::to_string(getpid()) + "_" +
              std::string(name)) {
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

constexpr std::string_view kPem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

TEST(ConfigTest, TlsAndUnixSocketSettings) {
  TempFile cert("cert.pem", kPem);
  TempFile key("key.pem", "-----BEGIN PRIVATE KEY-----\n");
  TempFile ca("ca.pem", kPem);
  ParsedArgs plain = parse({"--embedded-broker"});
  ASSERT_EQ(plain.action, Action::kRun) << plain.error;
  EXPECT_FALSE(plain.config.tls.enabled());
  EXPECT_FALSE(plain.config.tls.mutual());
  EXPECT_EQ(plain.config.unix_socket_mode, 0660u);
  EXPECT_EQ(plain.config.http_unix_path, "");

  ParsedArgs parsed =
      parse({"--embedded-broker", "--tls-cert-file", cert.path(), "--tls-key-file=" + key.path(),
             "--http-listen=unix:/run/ks/http.sock", "--unix-socket-mode=0600"},
            {{"KAFKA_SIDECAR_TLS_CLIENT_CA_FILE", ca.path()}});
  ASSERT_EQ(parsed.action, Action::kRun) << parsed.error;
  EXPECT_EQ(parsed.config.tls.cert_file, cert.path());
  EXPECT_EQ(parsed.config.tls.key_file, key.path());
  EXPECT_EQ(parsed.config.tls.client_ca_file, ca.path());
  EXPECT_TRUE(parsed.config.tls.enabled());
  EXPECT_TRUE(parsed.config.tls.mutual());
  EXPECT_EQ(parsed.config.http_unix_path, "/run/ks/http.sock");
  EXPECT_EQ(parsed.config.unix_socket_mode, 0600u);

  YamlFile file("tls-cert-file: " + cert.path() + "\ntls-key-file: " + key.path() +
                "\nunix-socket-mode: 0666\nhttp-listen: 127.0.0.1:0\n");
  ParsedArgs from_file = parse({"--embedded-broker", file.flag()});
  ASSERT_EQ(from_file.action, Action::kRun) << from_file.error;
  EXPECT_TRUE(from_file.config.tls.enabled());
  EXPECT_EQ(from_file.config.unix_socket_mode, 0666u);
  EXPECT_EQ(from_file.config.http_unix_path, "");
  // A later TCP address replaces a unix one.
  ParsedArgs tcp = parse({"--embedded-broker", "--http-listen=unix:/x", "--http-listen=[::1]:80"});
  ASSERT_EQ(tcp.action, Action::kRun) << tcp.error;
  EXPECT_EQ(tcp.config.http_unix_path, "");
  EXPECT_EQ(tcp.config.http_listen, (net::HostPort{"::1", 80}));
  for (std::string_view mode : {"000", "0777", "640", "0007"}) {
    EXPECT_EQ(parse({"--embedded-broker", "--unix-socket-mode", mode}).action, Action::kRun)
        << mode;
  }
}

TEST(ConfigTest, TlsAndUnixSocketErrorsNameTheFault) {
  TempFile cert("cert2.pem", kPem);
  TempFile key("key2.pem", "-----BEGIN PRIVATE KEY-----\n");
  TempFile not_pem("not.pem", "certificate\n");
  const std::string missing = ::testing::TempDir() + "config_test_no_such.pem";
  const std::string directory = ::testing::TempDir();
  EXPECT_EQ(errorOf({"--embedded-broker", "--tls-cert-file", missing}),
            "invalid value '" + missing +
                "' for --tls-cert-file: expected a readable PEM file (No such file or directory)");
  EXPECT_EQ(errorOf({"--embedded-broker", "--tls-key-file=" + directory}),
            "invalid value '" + directory +
                "' for --tls-key-file: expected a readable PEM file, not a directory");
  EXPECT_EQ(errorOf({"--embedded-broker"}, {{"KAFKA_SIDECAR_TLS_CLIENT_CA_FILE", not_pem.path()}}),
            "invalid value '" + not_pem.path() +
                "' for KAFKA_SIDECAR_TLS_CLIENT_CA_FILE: expected a PEM file (it has no "
                "'-----BEGIN' line)");
  EXPECT_EQ(errorOf({"--embedded-broker", "--tls-key-file", key.path()}),
            "--tls-key-file needs --tls-cert-file (the key's certificate)");
  EXPECT_EQ(errorOf({"--embedded-broker"}, {{"KAFKA_SIDECAR_TLS_CERT_FILE", cert.path()}}),
            "KAFKA_SIDECAR_TLS_CERT_FILE needs --tls-key-file (the certificate's private key)");
  EXPECT_EQ(errorOf({"--embedded-broker", "--tls-client-ca-file", cert.path()}),
            "--tls-client-ca-file (mTLS) needs --tls-cert-file and --tls-key-file: clients check "
            "the server first");
  YamlFile file("tls-cert-file: " + missing + "\n");
  EXPECT_EQ(fileErrorOf(file, {"--embedded-broker"}),
            "invalid value '" + missing + "' for tls-cert-file in " + file.at(1) +
                ": expected a readable PEM file (No such file or directory)");

  for (std::string_view mode :
       {"", "66", "0660x", "0999", "01777", "1777", "-660", "+660", "rw-rw----", "00660"}) {
    EXPECT_EQ(errorOf({"--embedded-broker", "--unix-socket-mode=" + std::string(mode)}),
              "invalid value '" + std::string(mode) +
                  "' for --unix-socket-mode: expected an octal file mode from 000 to 0777, "
                  "e.g. 0660")
        << mode;
  }
}

// The README's YAML example is a valid file.
TEST(ConfigTest, ReadmeExampleParses) {
  std::string readme = readmeConfiguration();
  size_t begin = readme.find("```yaml\n");
  ASSERT_NE(begin, std::string::npos) << "no YAML example in README.md";
  begin += 8;
  YamlFile file(readme.substr(begin, readme.find("```", begin) - begin));
  ParsedArgs parsed = parse({file.flag()});
  ASSERT_EQ(parsed.action, Action::kRun) << parsed.error;
  EXPECT_EQ(parsed.config.bootstrap_servers,
            (std::vector<std::string>{"kafka-1:9092", "kafka-2:9092"}));
  EXPECT_EQ(parsed.config.named_clusters.at("analytics"),
            (std::vector<std::string>{"a1:9092", "a2:9092"}));
  EXPECT_EQ(parsed.config.producer.compression, record::Compression::kLz4);
  EXPECT_EQ(parsed.config.consumer.fetch.max_wait, std::chrono::milliseconds(200));
}

}  // namespace
}  // namespace kafka::sidecar
