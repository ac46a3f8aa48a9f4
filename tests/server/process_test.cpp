// The built kafka-sidecar and ksctl binaries as child processes: exit codes, flag errors, the
// listener log lines, and a clean stop on SIGTERM and SIGINT.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <csignal>
#include <sstream>
#include <string>

#include "tests/server/test_support.hpp"

namespace kafka::sidecar {
namespace {

using testing::ChildProcess;
using testing::httpRequest;
using testing::portOfLogLine;
using testing::waitUntil;

const std::string kSidecar = KS_SIDECAR_BINARY;
const std::string kKsctl = KS_KSCTL_BINARY;

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// Starts the daemon with an embedded cluster on ports 0, reads its listener lines, checks that it
// serves, then stops it with `signal_number` and expects exit code 0.
void runAndStop(int signal_number) {
  ChildProcess sidecar({kSidecar, "--embedded-broker=2", "--grpc-listen=127.0.0.1:0",
                        "--http-listen", "127.0.0.1:0", "--threads=2"});
  auto embedded = sidecar.waitForStderrLine("embedded Kafka cluster");
  ASSERT_TRUE(embedded) << sidecar.err();
  EXPECT_TRUE(contains(*embedded, "2 broker(s) at 127.0.0.1:")) << *embedded;
  auto grpc_line = sidecar.waitForStderrLine("gRPC listening on ");
  ASSERT_TRUE(grpc_line) << sidecar.err();
  auto http_line = sidecar.waitForStderrLine("HTTP listening on ");
  ASSERT_TRUE(http_line) << sidecar.err();
  uint16_t grpc_port = portOfLogLine(*grpc_line);
  uint16_t http_port = portOfLogLine(*http_line);
  ASSERT_NE(grpc_port, 0) << *grpc_line;
  ASSERT_NE(http_port, 0) << *http_line;

  EXPECT_TRUE(waitUntil([&] { return httpRequest(http_port, "GET", "/readyz").status == 200; }));
  auto brokers =
      ChildProcess::run({kKsctl, "--addr", "127.0.0.1:" + std::to_string(grpc_port), "brokers"});
  EXPECT_EQ(brokers.exit_code, 0) << brokers.err;
  EXPECT_EQ(std::count(brokers.out.begin(), brokers.out.end(), '\n'), 2) << brokers.out;

  sidecar.signal(signal_number);
  EXPECT_EQ(sidecar.waitForExit(), 0) << sidecar.err();
  EXPECT_TRUE(contains(sidecar.err(), "[daemon] stopped")) << sidecar.err();
}

TEST(SidecarProcessTest, ServesAndStopsOnSigterm) {
  runAndStop(SIGTERM);
}

TEST(SidecarProcessTest, ServesAndStopsOnSigint) {
  runAndStop(SIGINT);
}

// --log-format=json: every line the daemon writes, from start to exit, is a JSON object with the
// entry's time, level, component and message, and entries about a cluster or a broker name it.
TEST(SidecarProcessTest, JsonLogsAreOneObjectPerLine) {
  ChildProcess sidecar({kSidecar, "--embedded-broker", "--grpc-listen=127.0.0.1:0",
                        "--http-listen=127.0.0.1:0", "--threads=2", "--log-format=json"});
  auto http_line = sidecar.waitForStderrLine("HTTP listening on ");
  ASSERT_TRUE(http_line) << sidecar.err();
  const uint16_t http_port = portOfLogLine(*http_line);
  ASSERT_NE(http_port, 0) << *http_line;
  ASSERT_TRUE(waitUntil([&] { return httpRequest(http_port, "GET", "/readyz").status == 200; }));
  // The first produce creates the cluster's producer, which logs with the cluster as context.
  const auto produced = httpRequest(http_port, "POST", "/v1/topics/demo/records?encoding=text",
                                    R"({"records": [{"value": "v"}]})");
  ASSERT_EQ(produced.status, 200u) << produced.body;
  ASSERT_TRUE(sidecar.waitForStderrLine("new producer")) << sidecar.err();
  sidecar.signal(SIGTERM);
  ASSERT_EQ(sidecar.waitForExit(), 0) << sidecar.err();

  size_t lines = 0;
  bool producer_has_cluster = false;
  bool connection_has_broker = false;
  std::istringstream err(sidecar.err());
  for (std::string line; std::getline(err, line); ++lines) {
    google::protobuf::Struct entry;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &entry).ok()) << line;
    const auto& fields = entry.fields();
    for (const char* key : {"time", "level", "component", "message"}) {
      ASSERT_TRUE(fields.contains(key)) << key << " missing in " << line;
      EXPECT_FALSE(fields.at(key).string_value().empty()) << key << " in " << line;
    }
    const bool in_default =
        fields.contains("cluster") && fields.at("cluster").string_value() == "default";
    const std::string& component = fields.at("component").string_value();
    if (component == "producers") producer_has_cluster = in_default;
    if (component == "connection" && in_default && fields.contains("broker")) {
      connection_has_broker = fields.at("broker").number_value() >= 1;
    }
  }
  EXPECT_GT(lines, 5u) << sidecar.err();
  EXPECT_TRUE(producer_has_cluster) << sidecar.err();
  EXPECT_TRUE(connection_has_broker) << sidecar.err();
}

TEST(SidecarProcessTest, HelpAndVersion) {
  auto help = ChildProcess::run({kSidecar, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(help.out.starts_with("Usage: kafka-sidecar")) << help.out;
  EXPECT_TRUE(contains(help.out, "--bootstrap-servers")) << help.out;

  auto version = ChildProcess::run({kSidecar, "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_TRUE(version.out.starts_with("kafka-sidecar ")) << version.out;
}

TEST(SidecarProcessTest, UsageErrorsExitWith2) {
  auto unknown = ChildProcess::run({kSidecar, "--embedded-broker", "--nope=1"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(contains(unknown.err, "unknown flag '--nope'")) << unknown.err;

  auto bad = ChildProcess::run({kSidecar, "--embedded-broker", "--threads", "zero"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(contains(bad.err, "invalid value 'zero' for --threads")) << bad.err;

  auto none = ChildProcess::run({kSidecar});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(contains(none.err, "--bootstrap-servers or --embedded-broker")) << none.err;
  EXPECT_EQ(none.out, "");
}

TEST(SidecarProcessTest, PortInUseExitsWith1) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor taken(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  std::string address = "127.0.0.1:" + std::to_string(taken.local_endpoint().port());

  auto http = ChildProcess::run(
      {kSidecar, "--embedded-broker", "--grpc-listen=127.0.0.1:0", "--http-listen=" + address});
  EXPECT_EQ(http.exit_code, 1);
  EXPECT_TRUE(contains(http.err, "cannot listen for HTTP on " + address)) << http.err;

  auto grpc = ChildProcess::run(
      {kSidecar, "--embedded-broker", "--grpc-listen=" + address, "--http-listen=127.0.0.1:0"});
  EXPECT_EQ(grpc.exit_code, 1);
  EXPECT_TRUE(contains(grpc.err, "cannot listen for gRPC on " + address)) << grpc.err;
}

TEST(KsctlProcessTest, ExitCodes) {
  auto help = ChildProcess::run({kKsctl, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(help.out.starts_with("Usage: ksctl")) << help.out;

  auto none = ChildProcess::run({kKsctl});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(none.err.starts_with("Usage: ksctl")) << none.err;

  auto unknown = ChildProcess::run({kKsctl, "frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(contains(unknown.err, "unknown command 'frobnicate'")) << unknown.err;

  // Nothing listens on port 1: the call fails fast, with gRPC's status.
  auto refused = ChildProcess::run({kKsctl, "--addr", "127.0.0.1:1", "--timeout", "5", "brokers"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(refused.err.starts_with("ksctl: UNAVAILABLE: ")) << refused.err;
  EXPECT_EQ(refused.out, "");
}

}  // namespace
}  // namespace kafka::sidecar
