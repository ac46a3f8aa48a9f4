// Command-line parsing of kafka-sidecar: every flag, both value forms, and the errors.
#include "server/config.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
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

}  // namespace
}  // namespace kafka::sidecar
