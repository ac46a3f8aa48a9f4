// Tests of the test broker itself: the MockCluster library in this process, and the mock-cluster
// tool as a child process through MockClusterProcess. What the brokers serve is checked with
// librdkafka (an independent client), plain TCP connects and one hand-made ApiVersions request.
#include "tools/mock_cluster/mock_cluster.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/mock_cluster_process.hpp"

namespace kafka::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Address {
  std::string host;
  int port = 0;
};

std::vector<Address> parseBootstrap(const std::string& bootstrap) {
  std::vector<Address> addresses;
  size_t start = 0;
  while (start <= bootstrap.size()) {
    size_t comma = bootstrap.find(',', start);
    std::string entry = bootstrap.substr(start, comma - start);
    size_t colon = entry.rfind(':');
    Address address;
    address.host = entry.substr(0, colon);
    address.port = colon == std::string::npos ? 0 : std::atoi(entry.c_str() + colon + 1);
    addresses.push_back(address);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return addresses;
}

// The cluster as librdkafka's Metadata sees it.
struct PartitionView {
  int32_t leader = -1;
  int replicas = 0;
};
struct TopicView {
  int error = 0;
  std::vector<PartitionView> partitions;
};
struct MetadataView {
  std::map<int32_t, Address> brokers;
  std::map<std::string, TopicView> topics;
};

std::optional<MetadataView> fetchMetadata(const std::string& bootstrap) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // Connection failures to brokers that a test took down are expected; keep them out of the log.
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), errstr, sizeof(errstr)) !=
          RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    ADD_FAILURE() << errstr;
    return std::nullopt;
  }
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> rk(
      rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)), &rd_kafka_destroy);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    ADD_FAILURE() << errstr;
    return std::nullopt;
  }
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk.get(), 1, nullptr, &raw, 5000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    ADD_FAILURE() << "metadata from " << bootstrap << ": " << rd_kafka_err2str(err);
    return std::nullopt;
  }
  std::unique_ptr<const rd_kafka_metadata_t, decltype(&rd_kafka_metadata_destroy)> md(
      raw, &rd_kafka_metadata_destroy);
  MetadataView view;
  for (int i = 0; i < md->broker_cnt; ++i) {
    view.brokers[md->brokers[i].id] = {md->brokers[i].host, md->brokers[i].port};
  }
  for (int i = 0; i < md->topic_cnt; ++i) {
    TopicView& topic = view.topics[md->topics[i].topic];
    topic.error = md->topics[i].err;
    for (int p = 0; p < md->topics[i].partition_cnt; ++p) {
      topic.partitions.push_back(
          {md->topics[i].partitions[p].leader, md->topics[i].partitions[p].replica_cnt});
    }
  }
  return view;
}

// A blocking TCP client socket to 127.0.0.1, for checking what a broker's port does.
class TcpClient {
 public:
  explicit TcpClient(int port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval receive_timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &receive_timeout, sizeof(receive_timeout));
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      error_ = errno;
    }
  }
  ~TcpClient() { ::close(fd_); }
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  bool connected() const { return error_ == 0; }
  int error() const { return error_; }

  // True if the peer closes (end of file or reset) within `timeout`.
  bool closedByPeerWithin(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return false;
    char byte;
    ssize_t n = ::recv(fd_, &byte, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

  bool sendAll(const std::vector<uint8_t>& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }

  bool receiveExactly(std::vector<uint8_t>& bytes) {
    size_t got = 0;
    while (got < bytes.size()) {
      ssize_t n = ::recv(fd_, bytes.data() + got, bytes.size() - got, 0);
      if (n <= 0) return false;
      got += static_cast<size_t>(n);
    }
    return true;
  }

 private:
  int fd_;
  int error_ = 0;
};

int16_t readInt16(const std::vector<uint8_t>& b, size_t at) {
  return static_cast<int16_t>((b[at] << 8) | b[at + 1]);
}
int32_t readInt32(const std::vector<uint8_t>& b, size_t at) {
  return static_cast<int32_t>((uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) |
                              (uint32_t{b[at + 2]} << 8) | uint32_t{b[at + 3]});
}

// A broker's answer to an ApiVersions v0 request written by hand, so that checks of the mock
// depend on no client.
struct ApiVersionsAnswer {
  bool answered = false;  // false if the connection failed or was dropped
  int16_t error = 0;
  std::map<int16_t, int16_t> max_versions;  // by API key
};

ApiVersionsAnswer askApiVersions(int port) {
  TcpClient client(port);
  // size 11 | api key 18 | version 0 | correlation id 7 | client id "t"
  const std::vector<uint8_t> request{0, 0, 0, 11, 0, 18, 0, 0, 0, 0, 0, 7, 0, 1, 't'};
  std::vector<uint8_t> size(4);
  if (!client.connected() || !client.sendAll(request) || !client.receiveExactly(size)) return {};
  std::vector<uint8_t> body(static_cast<size_t>(readInt32(size, 0)));
  if (body.size() < 10 || !client.receiveExactly(body)) return {};
  EXPECT_EQ(readInt32(body, 0), 7) << "correlation id";
  ApiVersionsAnswer answer{true, readInt16(body, 4), {}};
  int32_t count = readInt32(body, 6);
  for (int32_t i = 0; i < count && 10 + 6 * static_cast<size_t>(i + 1) <= body.size(); ++i) {
    size_t at = 10 + 6 * static_cast<size_t>(i);
    answer.max_versions[readInt16(body, at)] = readInt16(body, at + 4);
  }
  return answer;
}

// ---- The library, in this process ----

TEST(MockClusterLibTest, StartsBrokersOnLoopbackAndReportsBootstraps) {
  mock::MockCluster cluster(2);
  EXPECT_EQ(cluster.brokerCount(), 2);
  std::vector<Address> addresses = parseBootstrap(cluster.bootstraps());
  ASSERT_EQ(addresses.size(), 2u) << cluster.bootstraps();
  for (const Address& address : addresses) {
    EXPECT_EQ(address.host, "127.0.0.1");
    EXPECT_TRUE(TcpClient(address.port).connected()) << address.port;
  }
}

TEST(MockClusterLibTest, RejectsBadBrokerCounts) {
  EXPECT_THROW(mock::MockCluster(0), std::invalid_argument);
  EXPECT_THROW(mock::MockCluster(65), std::invalid_argument);
}

TEST(MockClusterLibTest, CreatesTopicsWithReplicationFactorUpToThree) {
  mock::MockCluster cluster(2);
  cluster.createTopic("lib-topic", 3);
  EXPECT_THROW(cluster.createTopic("lib-topic", 3), std::runtime_error);
  EXPECT_THROW(cluster.createTopic("bad name", 3), std::invalid_argument);
  EXPECT_THROW(cluster.createTopic("no-partitions", 0), std::invalid_argument);

  std::optional<MetadataView> md = fetchMetadata(cluster.bootstraps());
  ASSERT_TRUE(md);
  ASSERT_TRUE(md->topics.contains("lib-topic"));
  const TopicView& topic = md->topics.at("lib-topic");
  ASSERT_EQ(topic.partitions.size(), 3u);
  for (const PartitionView& partition : topic.partitions) EXPECT_EQ(partition.replicas, 2);
  EXPECT_FALSE(md->topics.contains("no-partitions"));
}

TEST(MockClusterLibTest, ExecuteAnswersOkOrError) {
  mock::MockCluster cluster(1);
  EXPECT_EQ(cluster.execute("topic create made-by-command 2"), "ok");
  EXPECT_EQ(cluster.execute("  broker   rtt 1 0 \r"), "ok");
  EXPECT_THAT(cluster.execute("frobnicate 1"), StartsWith("error: unknown command 'frobnicate'"));
  EXPECT_THAT(cluster.execute("broker down 2"), StartsWith("error: no broker '2'"));

  std::optional<MetadataView> md = fetchMetadata(cluster.bootstraps());
  ASSERT_TRUE(md);
  ASSERT_TRUE(md->topics.contains("made-by-command"));
  EXPECT_EQ(md->topics.at("made-by-command").partitions.size(), 2u);
}

TEST(MockClusterLibTest, CapsListOffsetsAtV3AndAppliesApiVersionCommands) {
  mock::MockCluster cluster(1);
  int port = parseBootstrap(cluster.bootstraps()).at(0).port;
  ApiVersionsAnswer answer = askApiVersions(port);
  ASSERT_TRUE(answer.answered);
  EXPECT_EQ(answer.error, 0);
  EXPECT_EQ(answer.max_versions[2], 3) << "ListOffsets";
  EXPECT_EQ(answer.max_versions[3], 2) << "Metadata";
  EXPECT_EQ(answer.max_versions[0], 7) << "Produce";

  EXPECT_EQ(cluster.execute("apiversion Metadata 0 1"), "ok");
  EXPECT_EQ(cluster.execute("apiversion 1 -1 -1"), "ok");
  answer = askApiVersions(port);
  EXPECT_EQ(answer.max_versions[3], 1) << "Metadata";
  EXPECT_FALSE(answer.max_versions.contains(1)) << "Fetch was disabled";
}

TEST(MockClusterLibTest, ErrorCommandsShapeTheNextAnswers) {
  mock::MockCluster cluster(2);
  std::vector<Address> brokers = parseBootstrap(cluster.bootstraps());
  ASSERT_EQ(brokers.size(), 2u);
  const int port1 = brokers[0].port;
  const int port2 = brokers[1].port;

  // Cluster-wide errors are used up one request at a time, on any broker.
  EXPECT_EQ(cluster.execute("errors ApiVersions CLUSTER_AUTHORIZATION_FAILED 0 35"), "ok");
  EXPECT_EQ(askApiVersions(port1).error, 31);
  EXPECT_EQ(askApiVersions(port2).error, 0);
  EXPECT_EQ(askApiVersions(port1).error, 35);
  EXPECT_EQ(askApiVersions(port1).error, 0);

  EXPECT_EQ(cluster.execute("errors ApiVersions 31 31"), "ok");
  EXPECT_EQ(cluster.execute("clear-errors ApiVersions"), "ok");
  EXPECT_EQ(askApiVersions(port1).error, 0);

  // A broker's own list comes first; _TRANSPORT drops the connection.
  EXPECT_EQ(cluster.execute("broker-errors 1 ApiVersions _TRANSPORT:0 35:0"), "ok");
  EXPECT_FALSE(askApiVersions(port1).answered);
  EXPECT_EQ(askApiVersions(port1).error, 35);
  EXPECT_EQ(askApiVersions(port1).error, 0);

  // librdkafka 2.0.2: once broker 1 has had a list for ApiVersions, cluster-wide errors for it
  // no longer reach broker 1, only the others.
  EXPECT_EQ(cluster.execute("errors ApiVersions 31"), "ok");
  EXPECT_EQ(askApiVersions(port1).error, 0);
  EXPECT_EQ(askApiVersions(port2).error, 31);
}

TEST(MockClusterLibTest, ServesBackToBackCommandsPromptly) {
  // librdkafka 2.0.2 alone often leaves such a command waiting about a second (see
  // throughOpQueue in mock_cluster.cpp); 40 of them would take some 20 s.
  mock::MockCluster cluster(2);
  cluster.createTopic("busy", 2);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(cluster.execute("leader busy 0 " + std::to_string(1 + i % 2)), "ok");
    ASSERT_EQ(cluster.execute("broker rtt 2 0"), "ok");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

// ---- The tool, as a child process ----

class MockClusterProcessTest : public MockClusterTest {
 protected:
  MockClusterProcessTest()
      : MockClusterTest({.brokers = 3, .topics = {{"orders", 4}, {"events", 1}}}) {}

  MetadataView metadata() {
    std::optional<MetadataView> md = fetchMetadata(bootstrap());
    if (!md) throw std::runtime_error("no metadata from the mock cluster");
    return *md;
  }
};

TEST_F(MockClusterProcessTest, PrintsThreeLoopbackBootstrapAddresses) {
  std::vector<Address> addresses = parseBootstrap(bootstrap());
  ASSERT_EQ(addresses.size(), 3u) << bootstrap();
  std::set<int> ports;
  for (const Address& address : addresses) {
    EXPECT_EQ(address.host, "127.0.0.1");
    EXPECT_GT(address.port, 0);
    EXPECT_LT(address.port, 65536);
    ports.insert(address.port);
  }
  EXPECT_EQ(ports.size(), 3u);
}

TEST_F(MockClusterProcessTest, CreatesTheTopicsOnThreeBrokers) {
  MetadataView md = metadata();
  EXPECT_EQ(md.brokers.size(), 3u);
  for (int32_t id : {1, 2, 3}) {
    ASSERT_TRUE(md.brokers.contains(id)) << id;
    EXPECT_EQ(md.brokers[id].host, "127.0.0.1");
  }
  ASSERT_TRUE(md.topics.contains("orders"));
  ASSERT_TRUE(md.topics.contains("events"));
  EXPECT_EQ(md.topics["orders"].error, 0);
  EXPECT_EQ(md.topics["orders"].partitions.size(), 4u);
  EXPECT_EQ(md.topics["events"].partitions.size(), 1u);
  for (const PartitionView& partition : md.topics["orders"].partitions) {
    EXPECT_EQ(partition.replicas, 3);
    EXPECT_GE(partition.leader, 1);
    EXPECT_LE(partition.leader, 3);
  }
}

TEST_F(MockClusterProcessTest, EveryCommandAnswersOkAndTakesEffect) {
  const std::vector<std::string> commands{
      "broker rtt 2 5",
      "broker rtt -1 0",
      "broker down 3",
      "broker up 3",
      "errors Produce NOT_LEADER_FOR_PARTITION 6 _TRANSPORT",
      "errors 0 0",
      "clear-errors Produce",
      "broker-errors 2 Fetch 0:10 _TRANSPORT:0",
      "leader orders 0 2",
      "leader orders 1 -1",
      "follower orders 1 3",
      "coordinator group my-group 2",
      "coordinator txn my-txn 3",
      "topic create made-by-command 2",
      "topic error events TOPIC_AUTHORIZATION_FAILED",
      "apiversion Fetch 0 4",
      "apiversion ListOffsets 0 3",
  };
  for (const std::string& line : commands) EXPECT_EQ(command(line), "ok") << line;

  MetadataView md = metadata();
  EXPECT_EQ(md.topics["orders"].partitions.at(0).leader, 2);
  EXPECT_EQ(md.topics["orders"].partitions.at(1).leader, -1);
  EXPECT_EQ(md.topics["events"].error, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  EXPECT_EQ(md.topics["made-by-command"].partitions.size(), 2u);
}

TEST_F(MockClusterProcessTest, BadCommandsAnswerAnErrorNamingTheFault) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"", "empty command"},
      {"frobnicate", "unknown command 'frobnicate'"},
      {"broker down", "usage: broker down ID"},
      {"broker down 4", "no broker '4'"},
      {"broker up x", "no broker 'x'"},
      {"broker sideways 1", "usage: broker down|up ID"},
      {"broker rtt 1 -5", "bad round-trip time '-5'"},
      {"errors Produce", "usage: errors API"},
      {"errors CreateTopics 1", "unserved API 'CreateTopics'"},
      {"errors 0 NO_SUCH_ERROR", "unknown error code 'NO_SUCH_ERROR'"},
      {"errors 0 _TIMED_OUT", "unknown error code '_TIMED_OUT'"},
      {"broker-errors 9 0 6:0", "no broker '9'"},
      {"broker-errors 1 0 6", "expected CODE:MS, got '6'"},
      {"broker-errors 1 0 6:soon", "bad delay in '6:soon'"},
      {"clear-errors", "usage: clear-errors API"},
      {"leader orders 99 1", "topic orders has no partition 99"},
      {"leader orders 0 4", "no broker '4'"},
      {"leader bad/name 0 1", "bad topic name 'bad/name'"},
      {"follower orders x 1", "bad partition 'x'"},
      {"coordinator consumer g 1", "usage: coordinator group|txn"},
      {"topic create orders 2", "topic orders already exists"},
      {"topic create new-topic 0", "bad partition count '0'"},
      {"topic delete orders", "usage: topic create"},
      {"topic error orders NOPE", "unknown error code 'NOPE'"},
      {"apiversion Metadata 0 9", "bad version range 0..9 for Metadata"},
      {"apiversion Metadata 2 1", "bad version range 2..1 for Metadata"},
  };
  for (const auto& [line, fault] : cases) {
    std::string answer = cluster().tryCommand(line);
    EXPECT_THAT(answer, StartsWith("error: ")) << "'" << line << "'";
    EXPECT_THAT(answer, HasSubstr(fault)) << "'" << line << "'";
  }
  // Refused commands leave the tool in step: the next answer is for the next command.
  EXPECT_EQ(command("broker rtt 1 0"), "ok");
}

TEST_F(MockClusterProcessTest, BrokerDownRefusesConnectionsAndUpReopensTheSamePort) {
  MetadataView md = metadata();
  ASSERT_TRUE(md.brokers.contains(2));
  const int port = md.brokers[2].port;
  const int other_port = md.brokers[1].port;

  TcpClient before(port);
  ASSERT_TRUE(before.connected());
  EXPECT_EQ(command("broker down 2"), "ok");

  // Open connections are closed, and the port refuses new ones (it stays bound, not listening).
  EXPECT_TRUE(before.closedByPeerWithin(std::chrono::seconds(5)));
  TcpClient during(port);
  EXPECT_FALSE(during.connected());
  EXPECT_EQ(during.error(), ECONNREFUSED);
  EXPECT_TRUE(TcpClient(other_port).connected()) << "only broker 2 is down";

  EXPECT_EQ(command("broker up 2"), "ok");
  EXPECT_TRUE(TcpClient(port).connected());
  std::optional<MetadataView> through_broker_2 = fetchMetadata("127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(through_broker_2);
  EXPECT_EQ(through_broker_2->brokers.size(), 3u);
  EXPECT_EQ(through_broker_2->brokers[2].port, port);
}

TEST_F(MockClusterProcessTest, ExitsZeroPromptlyWhenStdinCloses) {
  cluster().closeStdin();
  EXPECT_EQ(cluster().waitForExit(std::chrono::seconds(5)), std::optional<int>(0));
}

TEST_F(MockClusterProcessTest, ExitsZeroPromptlyOnSigterm) {
  cluster().sendSignal(SIGTERM);
  EXPECT_EQ(cluster().waitForExit(std::chrono::seconds(5)), std::optional<int>(0));
}

TEST_F(MockClusterProcessTest, ExitsZeroPromptlyOnSigint) {
  EXPECT_EQ(command("broker rtt 1 0"), "ok");
  cluster().sendSignal(SIGINT);
  EXPECT_EQ(cluster().waitForExit(std::chrono::seconds(5)), std::optional<int>(0));
}

TEST(MockClusterToolTest, BadArgumentsExitWithCode2AndSayWhy) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"--bogus"}, "unknown argument '--bogus'"},
      {{"--brokers"}, "--brokers needs a value"},
      {{"--brokers", "zero"}, "--brokers must be a positive number"},
      {{"--brokers", "0"}, "--brokers must be a positive number"},
      {{"--brokers", "65"}, "broker count must be 1..64"},
      {{"--topic", "orders"}, "--topic expects NAME:PARTITIONS"},
      {{"--topic", "orders:0"}, "partition count of topic orders"},
      {{"--topic", "a b:1"}, "bad topic name 'a b'"},
      {{"--topic=orders:1", "--topic", "orders:2"}, "topic orders given twice"},
  };
  for (const auto& [args, reason] : cases) {
    MockClusterRun run = MockClusterProcess::runToExit(args);
    EXPECT_EQ(run.exit_code, std::optional<int>(2)) << args.at(0);
    EXPECT_THAT(run.err, HasSubstr(reason)) << args.at(0);
    EXPECT_EQ(run.out, "") << args.at(0);
  }
}

TEST(MockClusterToolTest, HelpDescribesOptionsAndCommands) {
  MockClusterRun run = MockClusterProcess::runToExit({"--help"});
  EXPECT_EQ(run.exit_code, std::optional<int>(0));
  for (const char* text :
       {"--brokers N", "--topic NAME:PARTITIONS", "broker down ID", "broker up ID",
        "broker rtt ID MS", "errors API CODE", "broker-errors ID API CODE:MS", "clear-errors API",
        "leader TOPIC PARTITION ID", "follower TOPIC PARTITION ID", "coordinator group|txn KEY ID",
        "topic create NAME PARTITIONS", "topic error NAME CODE", "apiversion API MIN MAX"}) {
    EXPECT_THAT(run.out, HasSubstr(text));
  }
}

TEST(MockClusterToolTest, ExitsZeroWithNoInputAfterPrintingTheBootstrapLine) {
  MockClusterRun run = MockClusterProcess::runToExit({"--brokers", "2", "--topic", "t:1"});
  EXPECT_EQ(run.exit_code, std::optional<int>(0));
  ASSERT_FALSE(run.out.empty());
  EXPECT_EQ(run.out.back(), '\n');
  EXPECT_EQ(parseBootstrap(run.out.substr(0, run.out.size() - 1)).size(), 2u) << run.out;
}

}  // namespace
}  // namespace kafka::integration
