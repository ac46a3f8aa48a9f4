// ksctl in-process: argument handling, and its exact output against fake Admin, Producer and
// Consumer servers whose answers carry what the mock cluster cannot produce (racks, a controller,
// internal topics, errors, offline replicas, leader epochs, failed records, a record that comes
// after the close); then `ksctl produce` against a Daemon with an embedded broker, with what it
// wrote read back by kcat; and `ksctl consume` against a Daemon in front of a mock cluster that
// the tests own (each creates the topics it wants): values and JSON lines exactly as expected,
// exit 0 on --timeout with nothing to read, --manual-ack resuming exactly after what was printed.
// Every consume joins a group of its own; the mock holds a first join for 3 s.
#include "tools/ksctl/ksctl.hpp"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "kafka/sidecar/v1/admin.grpc.pb.h"
#include "kafka/sidecar/v1/consumer.grpc.pb.h"
#include "kafka/sidecar/v1/producer.grpc.pb.h"
#include "server/daemon.hpp"
#include "tests/server/test_support.hpp"
#include "tools/ksctl/commands.hpp"
#include "tools/mock_cluster/mock_cluster.hpp"

namespace kafka::ksctl {
namespace {

using namespace std::chrono_literals;
namespace v1 = kafka::sidecar::v1;
using sidecar::testing::ChildProcess;
using Clock = std::chrono::steady_clock;

struct KsctlRun {
  int exit_code;
  std::string out;
  std::string err;
  Clock::duration took;
};

KsctlRun ksctl(std::vector<std::string_view> args, const std::string& input = "") {
  std::istringstream in(input);
  std::ostringstream out;
  std::ostringstream err;
  const auto start = Clock::now();
  int code = runKsctl(args, out, err, in);
  return {code, out.str(), err.str(), Clock::now() - start};
}

void addPartition(v1::Topic& topic, int id, int leader, int epoch, std::vector<int> replicas,
                  std::vector<int> isr, std::vector<int> offline = {}) {
  v1::Partition* p = topic.add_partitions();
  p->set_partition(id);
  p->set_leader(leader);
  p->set_leader_epoch(epoch);
  p->mutable_replicas()->Add(replicas.begin(), replicas.end());
  p->mutable_isr()->Add(isr.begin(), isr.end());
  p->mutable_offline_replicas()->Add(offline.begin(), offline.end());
}

// Answers with canned data, and records the cluster each request named.
class FakeAdmin final : public v1::Admin::Service {
 public:
  grpc::Status DescribeCluster(grpc::ServerContext*, const v1::DescribeClusterRequest* request,
                               v1::DescribeClusterResponse* response) override {
    last_cluster = request->cluster();
    if (request->cluster() == "down") return {grpc::StatusCode::UNAVAILABLE, "no broker"};
    response->set_cluster_id("c1");
    response->set_controller_id(2);
    auto add = [&](int id, std::string host, int port, std::string rack) {
      v1::Broker* broker = response->add_brokers();
      broker->set_node_id(id);
      broker->set_host(std::move(host));
      broker->set_port(port);
      broker->set_rack(std::move(rack));
    };
    add(1, "kafka-1.example", 9092, "eu-1a");
    add(2, "kafka-2.example", 9092, "");
    add(3, "::1", 19092, "eu-1c");
    return grpc::Status::OK;
  }

  grpc::Status ListTopics(grpc::ServerContext*, const v1::ListTopicsRequest* request,
                          v1::ListTopicsResponse* response) override {
    last_cluster = request->cluster();
    v1::Topic* offsets = response->add_topics();
    offsets->set_name("__consumer_offsets");
    offsets->set_internal(true);
    addPartition(*offsets, 0, 1, 4, {1, 2, 3}, {1, 2, 3});

    v1::Topic* orders = response->add_topics();
    orders->set_name("orders");
    addPartition(*orders, 0, 2, 7, {2, 3, 1}, {2, 3});
    addPartition(*orders, 1, -1, -1, {3}, {}, {3});
    v1::KafkaError* error = orders->mutable_partitions(1)->mutable_error();
    error->set_code(5);
    error->set_name("LEADER_NOT_AVAILABLE");

    v1::Topic* creating = response->add_topics();
    creating->set_name("creating");
    creating->mutable_error()->set_name("LEADER_NOT_AVAILABLE");
    return grpc::Status::OK;
  }

  std::string last_cluster;
};

// Keeps every ProduceStream message and acks each as it is read. Records whose value starts
// with "fail" fail with UNKNOWN_TOPIC_OR_PARTITION, one ack each on partition 7; the others are
// delivered in one ack on partition 0. The cluster name selects other behaviours:
//   "grouped"  the failures of a message share one ack, without a partition
//   "down"     the call ends with UNAVAILABLE after the first message
//   "silent"   nothing is acked; the call ends only when the client cancels it
class FakeProducer final : public v1::Producer::Service {
 public:
  grpc::Status ProduceStream(grpc::ServerContext* context,
                             grpc::ServerReaderWriter<v1::ProduceStreamResponse,
                                                      v1::ProduceStreamRequest>* stream) override {
    v1::ProduceStreamRequest message;
    while (stream->Read(&message)) {
      {
        std::lock_guard lock(mutex_);
        messages_.push_back(message);
      }
      if (message.cluster() == "down") return {grpc::StatusCode::UNAVAILABLE, "no broker"};
      if (message.cluster() == "silent") continue;
      v1::ProduceStreamResponse response;
      v1::ProduceAck* delivered = nullptr;
      v1::ProduceAck* failed = nullptr;
      for (const v1::ProduceRecord& record : message.records()) {
        if (!record.value().starts_with("fail")) {
          if (delivered == nullptr) {
            delivered = response.add_acks();
            delivered->set_topic(message.topic());
            delivered->set_base_offset(next_offset_);
          }
          delivered->add_ids(record.id());
          ++next_offset_;
          continue;
        }
        const bool grouped = message.cluster() == "grouped";
        v1::ProduceAck* ack = grouped ? failed : nullptr;
        if (ack == nullptr) {
          ack = response.add_acks();
          ack->set_topic(message.topic());
          ack->set_partition(grouped ? -1 : 7);
          ack->set_base_offset(-1);
          ack->mutable_error()->set_code(3);
          ack->mutable_error()->set_name("UNKNOWN_TOPIC_OR_PARTITION");
          ack->mutable_error()->set_message("no such partition");
          if (grouped) failed = ack;
        }
        ack->add_ids(record.id());
      }
      if (response.acks_size() > 0 && !stream->Write(response)) break;
    }
    if (!messages().empty() && messages().front().cluster() == "silent") {
      sidecar::testing::waitUntil([&] { return context->IsCancelled(); });
      return grpc::Status::CANCELLED;
    }
    return grpc::Status::OK;
  }

  std::vector<v1::ProduceStreamRequest> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  std::vector<size_t> messageSizes() const {
    std::vector<size_t> sizes;
    for (const auto& message : messages()) sizes.push_back(message.records_size());
    return sizes;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<v1::ProduceStreamRequest> messages_;
  int64_t next_offset_ = 0;
};

// Answers Subscribe with `opened` and then `batches`; on `close`, sends `late` (if any) before
// it ends the call. Keeps every request.
class FakeConsumer final : public v1::Consumer::Service {
 public:
  std::vector<v1::PartitionRecords> batches;
  std::optional<v1::PartitionRecords> late;

  grpc::Status Subscribe(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::SubscribeResponse, v1::SubscribeRequest>* stream) override {
    v1::SubscribeRequest request;
    while (stream->Read(&request)) {
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
      }
      v1::SubscribeResponse response;
      if (request.has_open()) {
        response.mutable_opened()->set_session_id("s1");
        stream->Write(response);
        for (const v1::PartitionRecords& batch : batches) {
          *response.mutable_records() = batch;
          stream->Write(response);
        }
      } else if (request.close() && late) {
        *response.mutable_records() = *late;
        stream->Write(response);
      }
    }
    return grpc::Status::OK;
  }

  std::vector<v1::SubscribeRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<v1::SubscribeRequest> requests_;
};

v1::PartitionRecords batch(int32_t partition, int64_t first_offset,
                           const std::vector<std::string>& values) {
  v1::PartitionRecords out;
  out.set_topic("t");
  out.set_partition(partition);
  for (const std::string& value : values) {
    v1::ConsumedRecord* record = out.add_records();
    record->set_offset(first_offset++);
    record->set_value(value);
  }
  return out;
}

class KsctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&fake_);
    builder.RegisterService(&producer_);
    builder.RegisterService(&consumer_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port, 0);
    addr_ = "127.0.0.1:" + std::to_string(port);
  }

  void TearDown() override { server_->Shutdown(); }

  FakeAdmin fake_;
  FakeProducer producer_;
  FakeConsumer consumer_;
  std::unique_ptr<grpc::Server> server_;
  std::string addr_;
};

TEST_F(KsctlTest, Brokers) {
  KsctlRun run = ksctl({"--addr", addr_, "brokers"});
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(run.err, "");
  EXPECT_EQ(run.out,
            "1 kafka-1.example:9092 rack=eu-1a\n"
            "2 kafka-2.example:9092 (controller)\n"
            "3 [::1]:19092 rack=eu-1c\n");
  EXPECT_EQ(fake_.last_cluster, "");
}

TEST_F(KsctlTest, Topics) {
  KsctlRun run = ksctl({"topics", "--addr", addr_});
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(run.out,
            "__consumer_offsets partitions=1 internal\n"
            "orders partitions=2\n"
            "creating partitions=0 error=LEADER_NOT_AVAILABLE\n");
}

TEST_F(KsctlTest, TopicsVerbose) {
  for (std::string_view flag : {"-v", "--verbose"}) {
    KsctlRun run = ksctl({"--addr", addr_, "topics", flag});
    EXPECT_EQ(run.exit_code, kExitOk) << run.err;
    EXPECT_EQ(run.out,
              "__consumer_offsets partitions=1 internal\n"
              "  partition=0 leader=1 epoch=4 replicas=1,2,3 isr=1,2,3\n"
              "orders partitions=2\n"
              "  partition=0 leader=2 epoch=7 replicas=2,3,1 isr=2,3\n"
              "  partition=1 leader=-1 replicas=3 isr= offline=3 error=LEADER_NOT_AVAILABLE\n"
              "creating partitions=0 error=LEADER_NOT_AVAILABLE\n");
  }
}

TEST_F(KsctlTest, ClusterIsSent) {
  KsctlRun run = ksctl({"--cluster", "analytics", "--addr", addr_, "topics"});
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(fake_.last_cluster, "analytics");
  run = ksctl({"brokers", "--cluster=other", "--addr=" + addr_});
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(fake_.last_cluster, "other");
}

TEST_F(KsctlTest, RpcErrorIsPrintedWithCode) {
  KsctlRun run = ksctl({"--addr", addr_, "--cluster", "down", "brokers"});
  EXPECT_EQ(run.exit_code, kExitRpcFailed);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "ksctl: UNAVAILABLE: no broker\n");
}

// What ksctl sends: ids are line numbers, keys split at the first separator, the same headers
// (in order, null and empty kept apart) and partition on every record, the cluster and settings
// on every message. The last line has no newline.
TEST_F(KsctlTest, ProduceSendsLinesAsRecords) {
  KsctlRun run = ksctl(
      {"--addr", addr_, "--cluster", "c1", "produce", "-k", "::",   "-H",     "a=1=2", "-H",
       "empty=", "-H",  "gone",      "-p", "2",       "-z", "zstd", "--acks", "1",     "orders"},
      "k1::v1\nno key\n::empty key\nk4::v::4\n\nlast");
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(run.err, "");
  EXPECT_EQ(run.out, "produced 6 records (29 bytes) to orders, 0 failed\n");

  struct Expected {
    std::optional<std::string> key;
    std::string value;
  };
  const std::vector<Expected> expected = {{"k1", "v1"},       {std::nullopt, "no key"},
                                          {"", "empty key"},  {"k4", "v::4"},
                                          {std::nullopt, ""}, {std::nullopt, "last"}};
  std::vector<v1::ProduceRecord> records;
  for (const v1::ProduceStreamRequest& message : producer_.messages()) {
    EXPECT_EQ(message.cluster(), "c1");
    EXPECT_EQ(message.topic(), "orders");
    EXPECT_EQ(message.settings().compression(), v1::COMPRESSION_ZSTD);
    EXPECT_EQ(message.settings().acks(), v1::ACKS_LEADER);
    records.insert(records.end(), message.records().begin(), message.records().end());
  }
  ASSERT_EQ(records.size(), expected.size());
  for (size_t i = 0; i < records.size(); ++i) {
    SCOPED_TRACE("line " + std::to_string(i + 1));
    const v1::ProduceRecord& r = records[i];
    EXPECT_EQ(r.id(), i + 1);
    EXPECT_EQ(r.topic(), "");
    EXPECT_EQ(r.partition(), 2);
    EXPECT_EQ(r.has_key(), expected[i].key.has_value());
    EXPECT_EQ(r.key(), expected[i].key.value_or(""));
    EXPECT_TRUE(r.has_value());
    EXPECT_EQ(r.value(), expected[i].value);
    EXPECT_FALSE(r.has_timestamp_ms());
    ASSERT_EQ(r.headers_size(), 3);
    EXPECT_EQ(r.headers(0).key(), "a");
    EXPECT_EQ(r.headers(0).value(), "1=2");
    EXPECT_EQ(r.headers(1).key(), "empty");
    EXPECT_TRUE(r.headers(1).has_value());
    EXPECT_EQ(r.headers(1).value(), "");
    EXPECT_EQ(r.headers(2).key(), "gone");
    EXPECT_FALSE(r.headers(2).has_value());
  }
}

TEST_F(KsctlTest, ProduceDefaultsLeaveChoicesToTheSidecar) {
  KsctlRun run = ksctl({"--addr", addr_, "produce", "orders"}, "a:b\n");
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  ASSERT_EQ(producer_.messageSizes(), std::vector<size_t>{1});
  const v1::ProduceStreamRequest message = producer_.messages()[0];
  EXPECT_EQ(message.cluster(), "");
  EXPECT_EQ(message.settings().acks(), v1::ACKS_UNSPECIFIED);
  EXPECT_EQ(message.settings().compression(), v1::COMPRESSION_UNSPECIFIED);
  EXPECT_FALSE(message.records(0).has_key());
  EXPECT_EQ(message.records(0).value(), "a:b");
  EXPECT_FALSE(message.records(0).has_partition());
  EXPECT_EQ(message.records(0).headers_size(), 0);
}

// Up to 1000 records or 1 MiB per message.
TEST_F(KsctlTest, ProduceBatchesMessages) {
  std::string input;
  for (int i = 1; i <= 2500; ++i) input += std::to_string(i) + "\n";
  KsctlRun run = ksctl({"--addr", addr_, "produce", "orders"}, input);
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(run.out, "produced 2500 records (" + std::to_string(input.size() - 2500) +
                         " bytes) to orders, 0 failed\n");
  EXPECT_EQ(producer_.messageSizes(), (std::vector<size_t>{1000, 1000, 500}));
  uint64_t next_id = 1;
  for (const auto& message : producer_.messages()) {
    for (const auto& record : message.records()) {
      EXPECT_EQ(record.id(), next_id);
      EXPECT_EQ(record.value(), std::to_string(next_id));
      ++next_id;
    }
  }

  const std::string big(600 << 10, 'x');
  run = ksctl({"--addr", addr_, "produce", "orders"}, big + "\n" + big + "\n" + big);
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(producer_.messageSizes(), (std::vector<size_t>{1000, 1000, 500, 2, 1}));
}

// Even an empty input opens the stream with one message, so that the cluster is checked.
TEST_F(KsctlTest, ProduceEmptyInput) {
  KsctlRun run = ksctl({"--addr", addr_, "produce", "orders"});
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(run.out, "produced 0 records (0 bytes) to orders, 0 failed\n");
  EXPECT_EQ(producer_.messageSizes(), std::vector<size_t>{0});

  run = ksctl({"--addr", addr_, "--cluster", "down", "produce", "orders"});
  EXPECT_EQ(run.exit_code, kExitRpcFailed);
  EXPECT_EQ(run.err, "ksctl: UNAVAILABLE: no broker\n");
}

TEST_F(KsctlTest, ProduceReportsFailedLines) {
  KsctlRun run = ksctl({"--addr", addr_, "produce", "orders"}, "ok\nfail 2\nok\nfail 4\n");
  EXPECT_EQ(run.exit_code, kExitNotDelivered);
  EXPECT_EQ(run.out, "produced 2 records (4 bytes) to orders, 2 failed\n");
  EXPECT_EQ(run.err,
            "ksctl: produce: line 2 failed (orders partition 7): UNKNOWN_TOPIC_OR_PARTITION: no "
            "such partition\n"
            "ksctl: produce: line 4 failed (orders partition 7): UNKNOWN_TOPIC_OR_PARTITION: no "
            "such partition\n");
}

TEST_F(KsctlTest, ProducePrintsTheFirst20Failures) {
  std::string input;
  for (int i = 1; i <= 25; ++i) input += "fail\n";
  KsctlRun run = ksctl({"--addr", addr_, "produce", "orders"}, input);
  EXPECT_EQ(run.exit_code, kExitNotDelivered);
  EXPECT_EQ(run.out, "produced 0 records (0 bytes) to orders, 25 failed\n");
  std::string expected;
  for (int i = 1; i <= 20; ++i) {
    expected += "ksctl: produce: line " + std::to_string(i) +
                " failed (orders partition 7): UNKNOWN_TOPIC_OR_PARTITION: no such partition\n";
  }
  expected += "ksctl: produce: ... and 5 more failed records\n";
  EXPECT_EQ(run.err, expected);
}

// One ack for many lines names them as runs, up to 8 runs.
TEST_F(KsctlTest, ProduceNamesRunsOfFailedLines) {
  KsctlRun run = ksctl({"--addr", addr_, "--cluster", "grouped", "produce", "orders"},
                       "fail\nfail\nfail\nok\nfail\nok\nfail\nfail\n");
  EXPECT_EQ(run.exit_code, kExitNotDelivered);
  EXPECT_EQ(run.err,
            "ksctl: produce: lines 1-3,5,7-8 failed (orders): UNKNOWN_TOPIC_OR_PARTITION: no such "
            "partition\n");

  std::string input;
  for (int i = 1; i <= 30; ++i) input += i % 3 == 0 ? "ok\n" : "fail\n";
  run = ksctl({"--addr", addr_, "--cluster", "grouped", "produce", "orders"}, input);
  EXPECT_EQ(run.exit_code, kExitNotDelivered);
  EXPECT_EQ(run.out, "produced 10 records (20 bytes) to orders, 20 failed\n");
  EXPECT_EQ(run.err,
            "ksctl: produce: lines 1-2,4-5,7-8,10-11,13-14,16-17,19-20,22-23 and 4 more failed "
            "(orders): UNKNOWN_TOPIC_OR_PARTITION: no such partition\n");
}

TEST_F(KsctlTest, ProduceGivesUpOnAcksAfterTimeout) {
  auto started = std::chrono::steady_clock::now();
  KsctlRun run = ksctl(
      {"--addr", addr_, "--cluster", "silent", "--timeout", "0.3", "produce", "orders"}, "a\nb\n");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(run.exit_code, kExitRpcFailed);
  EXPECT_EQ(run.out, "produced 0 records (0 bytes) to orders, 0 failed\n");
  EXPECT_EQ(run.err,
            "ksctl: produce: DEADLINE_EXCEEDED: no answer for 2 records within 0.3 s of the end "
            "of the input\n");
}

// -n stops inside a batch: only the records printed are acked, before the close.
TEST_F(KsctlTest, ConsumeAcksExactlyWhatWasPrinted) {
  consumer_.batches = {batch(0, 10, {"a", "b"}), batch(1, 20, {"c", "d", "e"})};
  KsctlRun run = ksctl({"--addr", addr_, "--cluster", "c1", "--timeout", "10", "consume", "-g", "g",
                        "--manual-ack", "--from-beginning", "-n", "3", "t"});
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(run.out, "a\nb\nc\n");
  std::vector<v1::SubscribeRequest> requests = consumer_.requests();
  ASSERT_EQ(requests.size(), 4u);
  const v1::SessionSpec& spec = requests[0].open();
  EXPECT_EQ(spec.cluster(), "c1");
  EXPECT_EQ(spec.group(), "g");
  EXPECT_EQ(std::vector<std::string>(spec.topics().begin(), spec.topics().end()),
            std::vector<std::string>{"t"});
  EXPECT_EQ(spec.offset_reset(), v1::OFFSET_RESET_EARLIEST);
  EXPECT_EQ(spec.ack_mode(), v1::ACK_MODE_MANUAL);
  EXPECT_EQ(spec.session_timeout_ms(), 10'000u);
  const auto acked = [&](size_t i) {
    const v1::PartitionOffsets& partition = requests[i].ack().partitions(0);
    std::string text = partition.topic() + "/" + std::to_string(partition.partition()) + ":";
    for (int64_t offset : partition.offsets()) text += " " + std::to_string(offset);
    return text;
  };
  EXPECT_EQ(acked(1), "t/0: 10 11");
  EXPECT_EQ(acked(2), "t/1: 20");
  EXPECT_TRUE(requests[3].close());
}

// Without --manual-ack the sidecar acks what it sends: ksctl sends no acks.
TEST_F(KsctlTest, ConsumeWithoutManualAckSendsNoAcks) {
  consumer_.batches = {batch(0, 0, {"a", "b", "c"})};
  KsctlRun run = ksctl({"--addr", addr_, "--timeout", "10", "consume", "-g", "g", "-n", "2", "t"});
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(run.out, "a\nb\n");
  std::vector<v1::SubscribeRequest> requests = consumer_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].open().offset_reset(), v1::OFFSET_RESET_LATEST);
  EXPECT_EQ(requests[0].open().ack_mode(), v1::ACK_MODE_AUTO);
  EXPECT_TRUE(requests[1].close());
}

// With --manual-ack, a record that arrives once --timeout has sent the close is not printed: it
// could no longer be acked, and would be printed again by the next consumer of the group.
TEST_F(KsctlTest, ConsumePrintsNothingAfterTheClose) {
  consumer_.late = batch(0, 5, {"late"});
  KsctlRun run =
      ksctl({"--addr", addr_, "--timeout", "0.3", "consume", "-g", "g", "--manual-ack", "t"});
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(run.out, "");
  std::vector<v1::SubscribeRequest> requests = consumer_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_TRUE(requests[1].close());
}

// `ksctl produce` through a Daemon with an embedded three-broker cluster (topic "demo" with 3
// partitions); kcat reads back what was written, with CRC checks.
class KsctlDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sidecar::DaemonConfig config;
    config.grpc_listen = "127.0.0.1:0";
    config.http_listen = {"127.0.0.1", 0};
    config.threads = 2;
    config.embedded_brokers = 3;
    daemon_ =
        std::make_unique<sidecar::Daemon>(std::move(config), sidecar::Daemon::Signals::kIgnore);
    daemon_->start();
  }

  void TearDown() override {
    daemon_->requestStop();
    daemon_->wait();
  }

  // kcat's output for one partition of demo, from the beginning, in `format` (-f).
  std::string kcat(int partition, const std::string& format) {
    auto result =
        ChildProcess::run({"/usr/bin/kcat", "-b", daemon_->embeddedBootstraps(), "-C", "-t", "demo",
                           "-p", std::to_string(partition), "-o", "beginning", "-e", "-q", "-Z",
                           "-X", "check.crcs=true", "-f", format});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.out;
  }

  std::unique_ptr<sidecar::Daemon> daemon_;
};

// -Z prints NULL for a null key, value or header value, and for an empty key or value (the
// lengths tell them apart).
TEST_F(KsctlDaemonTest, ProducedRecordsAreReadBackByKcat) {
  KsctlRun run = ksctl({"--addr", daemon_->grpcAddress(), "produce", "-k", ":", "-H", "trace=abc",
                        "-H", "empty=", "-H", "gone", "-p", "1", "-z", "gzip", "demo"},
                       "k1:v1\nno key\n:empty key\nk4:v:4\n\nlast");
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(run.err, "");
  EXPECT_EQ(run.out, "produced 6 records (28 bytes) to demo, 0 failed\n");
  const std::string headers = "|trace=abc,empty=,gone=NULL\n";
  EXPECT_EQ(kcat(1, "%o|%K|%k|%S|%s|%h\\n"), "0|2|k1|2|v1" + headers + "1|-1|NULL|6|no key" +
                                                 headers + "2|0|NULL|9|empty key" + headers +
                                                 "3|2|k4|3|v:4" + headers + "4|-1|NULL|0|NULL" +
                                                 headers + "5|-1|NULL|4|last" + headers);
}

TEST_F(KsctlDaemonTest, RecordsForAMissingPartitionFail) {
  KsctlRun run = ksctl({"--addr", daemon_->grpcAddress(), "produce", "-p", "99", "demo"}, "a\nb\n");
  EXPECT_EQ(run.exit_code, kExitNotDelivered);
  EXPECT_EQ(run.out, "produced 0 records (0 bytes) to demo, 2 failed\n");
  EXPECT_TRUE(run.err.starts_with("ksctl: produce: line")) << run.err;
  EXPECT_NE(run.err.find("UNKNOWN_TOPIC_OR_PARTITION: "), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("partition 99"), std::string::npos) << run.err;
}

// The binary, reading a pipe: many messages, in order, with gRPC flow control in play.
TEST_F(KsctlDaemonTest, BinaryStreamsAPipe) {
  constexpr int kLines = 50000;
  std::string expected;
  for (int i = 1; i <= kLines; ++i) expected += std::to_string(i) + "\n";
  auto result =
      ChildProcess::run({"/bin/sh", "-c",
                         "seq 1 " + std::to_string(kLines) + " | " KS_KSCTL_BINARY " --addr " +
                             daemon_->grpcAddress() + " produce -p 2 demo"},
                        std::chrono::seconds(60));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  EXPECT_EQ(result.out, "produced " + std::to_string(kLines) + " records (" +
                            std::to_string(expected.size() - kLines) +
                            " bytes) to demo, 0 failed\n");
  EXPECT_EQ(kcat(2, "%s\\n"), expected);
}

std::vector<std::string> sortedLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  return lines;
}

v1::ProduceRecord record(int32_t partition, std::optional<std::string> key,
                         std::optional<std::string> value, int64_t timestamp_ms) {
  v1::ProduceRecord out;
  out.set_partition(partition);
  if (key) out.set_key(*key);
  if (value) out.set_value(*value);
  out.set_timestamp_ms(timestamp_ms);
  return out;
}

void addHeader(v1::ProduceRecord& record, const std::string& key,
               std::optional<std::string> value) {
  v1::RecordHeader* header = record.add_headers();
  header->set_key(key);
  if (value) header->set_value(*value);
}

// A group member on a Subscribe call of its own, reading another topic than ksctl does, with a
// short session timeout. It is there for the mock: when a member leaves, the mock waits for the
// others to rejoin for the session timeout of the member that joined last, minus a second; with
// only ksctl's sessions (10 s) in the group, a second `ksctl consume` of the group would wait 9 s
// for its join. The keeper rejoins after every join or leave, so its 5 s stays the group's.
class GroupKeeper {
 public:
  GroupKeeper(const std::string& address, const std::string& group, const std::string& topic)
      : stub_(v1::Consumer::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {
    context_.set_deadline(std::chrono::system_clock::now() + 60s);
    stream_ = stub_->Subscribe(&context_);
    v1::SubscribeRequest open;
    v1::SessionSpec* spec = open.mutable_open();
    spec->set_group(group);
    spec->set_name("keeper");
    spec->add_topics(topic);
    spec->set_session_timeout_ms(5000);
    EXPECT_TRUE(stream_->Write(open));
    reader_ = std::thread([this] {
      v1::SubscribeResponse response;
      while (stream_->Read(&response)) {
        if (!response.has_event() || !response.event().has_assigned()) continue;
        std::lock_guard lock(mutex_);
        assigned_ = true;
        changed_.notify_all();
      }
    });
  }

  ~GroupKeeper() {
    v1::SubscribeRequest close;
    close.set_close(true);
    if (stream_->Write(close)) stream_->WritesDone();
    reader_.join();
    grpc::Status status = stream_->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
  }

  bool waitAssigned() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 15s, [this] { return assigned_; });
  }

 private:
  std::unique_ptr<v1::Consumer::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::SubscribeRequest, v1::SubscribeResponse>> stream_;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool assigned_ = false;
};

class KsctlConsumeDaemonTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mock_ = new mock::MockCluster(1);
    sidecar::DaemonConfig config;
    config.grpc_listen = "127.0.0.1:0";
    config.http_listen = {"127.0.0.1", 0};
    config.threads = 2;
    config.bootstrap_servers = {mock_->bootstraps()};
    config.producer.linger = 1ms;
    daemon_ = new sidecar::Daemon(std::move(config), sidecar::Daemon::Signals::kIgnore);
    daemon_->start();
    address_ = daemon_->grpcAddress();
  }

  static void TearDownTestSuite() {
    daemon_->requestStop();
    daemon_->wait();
    delete daemon_;
    delete mock_;
  }

  // Writes `records` with the Producer service, expecting each delivered.
  static void produce(const std::string& topic, const std::vector<v1::ProduceRecord>& records) {
    auto stub =
        v1::Producer::NewStub(grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 15s);
    v1::ProduceRequest request;
    request.set_topic(topic);
    for (const v1::ProduceRecord& r : records) *request.add_records() = r;
    v1::ProduceResponse response;
    grpc::Status status = stub->Produce(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (const v1::ProduceResult& result : response.results()) {
      EXPECT_FALSE(result.has_error()) << result.error().message();
    }
  }

  static inline mock::MockCluster* mock_ = nullptr;
  static inline sidecar::Daemon* daemon_ = nullptr;
  static inline std::string address_;
};

TEST_F(KsctlConsumeDaemonTest, PrintsTheValuesOfAGroupFromTheBeginning) {
  mock_->createTopic("lines", 1);
  KsctlRun produced =
      ksctl({"--addr", address_, "produce", "-p", "0", "lines"}, "one\ntwo\n\nfour\nfive\n");
  ASSERT_EQ(produced.exit_code, kExitOk) << produced.err;

  // --timeout only as a safety net: -n ends the command as soon as the records are printed.
  KsctlRun run = ksctl({"--addr", address_, "--timeout", "20", "consume", "-g", "values",
                        "--from-beginning", "-n", "4", "lines"});
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(run.out, "one\ntwo\n\nfour\n");
  EXPECT_EQ(run.err, "");
  EXPECT_LT(run.took, 15s);
}

// Bytes that are not UTF-8 (a stray byte, an overlong form, a surrogate, a code point above
// U+10FFFF, a truncated sequence) are \u00XX escapes, one per byte; well-formed sequences stay.
TEST_F(KsctlConsumeDaemonTest, JsonLinesCarryEveryField) {
  mock_->createTopic("json", 2);
  v1::ProduceRecord plain = record(0, "k1", "v1", 1700000000000);
  addHeader(plain, "trace", "abc");
  v1::ProduceRecord nulls = record(0, std::nullopt, std::nullopt, 1700000000001);
  addHeader(nulls, "gone", std::nullopt);
  addHeader(nulls, "empty", "");
  addHeader(nulls, "dup", "1");
  addHeader(nulls, "dup", "2");
  v1::ProduceRecord escapes =
      record(1, "", std::string("\x00\xff\xc3\xa9\"\\\n\t/\x7f", 10), 1700000000002);
  addHeader(escapes, "bin", std::string("\x01\x80", 2));
  v1::ProduceRecord utf8 = record(1, "\xe0\x80\x80\xed\xa0\x80",
                                  "\xf4\x90\x80\x80\xf0\x9f\x98\x80\xe2\x82", 1700000000003);
  produce("json", {plain, nulls, escapes, utf8});

  KsctlRun run = ksctl({"--addr", address_, "--timeout", "20", "consume", "-g", "json", "-o",
                        "json", "--from-beginning", "-n", "4", "json"});
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(run.err, "");
  // In order of partition and offset, which sorting the lines keeps.
  const std::vector<std::string> expected = {
      R"({"topic":"json","partition":0,"offset":0,"key":"k1","value":"v1",)"
      R"("headers":[{"key":"trace","value":"abc"}],"timestamp":1700000000000})",
      R"({"topic":"json","partition":0,"offset":1,"key":null,"value":null,)"
      R"("headers":[{"key":"gone","value":null},{"key":"empty","value":""},)"
      R"({"key":"dup","value":"1"},{"key":"dup","value":"2"}],"timestamp":1700000000001})",
      R"({"topic":"json","partition":1,"offset":0,"key":"",)"
      R"("value":"\u0000\u00ffé\"\\\n\u0009/\u007f",)"
      R"("headers":[{"key":"bin","value":"\u0001\u0080"}],"timestamp":1700000000002})",
      R"({"topic":"json","partition":1,"offset":1,"key":"\u00e0\u0080\u0080\u00ed\u00a0\u0080",)"
      R"("value":"\u00f4\u0090\u0080\u0080😀\u00e2\u0082","headers":[],)"
      R"("timestamp":1700000000003})",
  };
  EXPECT_EQ(sortedLines(run.out), expected);
}

TEST_F(KsctlConsumeDaemonTest, TimeoutWithNothingToReadExitsZero) {
  mock_->createTopic("quiet", 1);
  KsctlRun run = ksctl({"--addr", address_, "--timeout", "2", "consume", "-g", "quiet", "quiet"});
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "");
  EXPECT_GE(run.took, 2s);
  EXPECT_LT(run.took, 6s);
}

// With --manual-ack, what was printed is what is committed: records delivered after the -n-th
// are not lost, and nothing printed comes again.
TEST_F(KsctlConsumeDaemonTest, ManualAckResumesExactlyAfterWhatWasPrinted) {
  mock_->createTopic("resume", 1);
  mock_->createTopic("resume-keeper", 1);
  std::string lines;
  for (int i = 0; i < 10; ++i) lines += "r" + std::to_string(i) + "\n";
  ASSERT_EQ(ksctl({"--addr", address_, "produce", "-p", "0", "resume"}, lines).exit_code, kExitOk);
  GroupKeeper keeper(address_, "resume", "resume-keeper");
  ASSERT_TRUE(keeper.waitAssigned());

  KsctlRun first = ksctl({"--addr", address_, "--timeout", "20", "consume", "-g", "resume",
                          "--from-beginning", "--manual-ack", "-n", "4", "resume"});
  EXPECT_EQ(first.exit_code, kExitOk) << first.err;
  EXPECT_EQ(first.out, "r0\nr1\nr2\nr3\n");
  KsctlRun offsets = ksctl({"--addr", address_, "offsets", "-g", "resume", "resume", "nowhere"});
  EXPECT_EQ(offsets.exit_code, kExitOk) << offsets.err;
  EXPECT_EQ(offsets.out,
            "resume 0 earliest=0 latest=10 committed=4 lag=6\n"
            "nowhere error=UNKNOWN_TOPIC_OR_PARTITION\n");

  // Without --from-beginning: a partition without a committed offset would start at the end.
  KsctlRun second = ksctl({"--addr", address_, "--timeout", "20", "consume", "-g", "resume",
                           "--manual-ack", "-n", "6", "resume"});
  EXPECT_EQ(second.exit_code, kExitOk) << second.err;
  EXPECT_EQ(second.out, "r4\nr5\nr6\nr7\nr8\nr9\n");
  EXPECT_EQ(second.err, "");
  EXPECT_LT(second.took, 15s);
  offsets = ksctl({"--addr", address_, "offsets", "-g", "resume", "resume"});
  EXPECT_EQ(offsets.out, "resume 0 earliest=0 latest=10 committed=10 lag=0\n") << offsets.err;
  offsets = ksctl({"--addr", address_, "offsets", "resume"});
  EXPECT_EQ(offsets.out, "resume 0 earliest=0 latest=10\n") << offsets.err;
}

TEST_F(KsctlConsumeDaemonTest, UnknownClusterFails) {
  KsctlRun run = ksctl(
      {"--addr", address_, "--cluster", "nope", "--timeout", "10", "consume", "-g", "g", "lines"});
  EXPECT_EQ(run.exit_code, kExitRpcFailed);
  EXPECT_EQ(run.out, "");
  EXPECT_TRUE(run.err.starts_with("ksctl: NOT_FOUND: ")) << run.err;
  EXPECT_NE(run.err.find("nope"), std::string::npos) << run.err;
}

TEST(KsctlUsageTest, Help) {
  KsctlRun run = ksctl({"--help"});
  EXPECT_EQ(run.exit_code, kExitOk);
  EXPECT_TRUE(run.out.starts_with("Usage: ksctl")) << run.out;
  for (const Command& command : commands()) {
    EXPECT_NE(run.out.find("  " + std::string(command.name)), std::string::npos) << command.name;
  }
  run = ksctl({"topics", "-h"});
  EXPECT_EQ(run.exit_code, kExitOk);
  EXPECT_TRUE(run.out.starts_with("Usage: ksctl [flags] topics [-v]")) << run.out;
  run = ksctl({"produce", "--help"});
  EXPECT_EQ(run.exit_code, kExitOk);
  EXPECT_TRUE(run.out.starts_with("Usage: ksctl [flags] produce [OPTIONS] TOPIC")) << run.out;
  for (std::string_view flag : {"-k SEP", "-H NAME=VALUE", "-p PARTITION", "-z CODEC", "--acks"}) {
    EXPECT_NE(run.out.find(flag), std::string::npos) << flag;
  }
  run = ksctl({"consume", "--help"});
  EXPECT_EQ(run.exit_code, kExitOk);
  EXPECT_TRUE(run.out.starts_with("Usage: ksctl [flags] consume [OPTIONS] -g GROUP TOPIC"))
      << run.out;
  for (std::string_view flag :
       {"-g GROUP", "-o FORMAT", "-n COUNT", "--from-beginning", "--manual-ack", "--timeout"}) {
    EXPECT_NE(run.out.find(flag), std::string::npos) << flag;
  }
}

TEST(KsctlUsageTest, Errors) {
  const std::pair<std::vector<std::string_view>, std::string_view> cases[] = {
      {{}, "Usage: ksctl"},
      {{"nope"}, "ksctl: unknown command 'nope'"},
      {{"--bogus", "brokers"}, "ksctl: unknown flag '--bogus'"},
      {{"brokers", "extra"}, "ksctl: brokers: unexpected argument 'extra'"},
      {{"topics", "-x"}, "ksctl: topics: unexpected argument '-x'"},
      {{"brokers", "--addr"}, "ksctl: missing value for --addr"},
      {{"--timeout", "0", "brokers"}, "ksctl: invalid value '0' for --timeout"},
      {{"--timeout=-1", "brokers"}, "ksctl: invalid value '-1' for --timeout"},
      {{"--timeout=soon", "brokers"}, "ksctl: invalid value 'soon' for --timeout"},
      {{"--addr=", "brokers"}, "ksctl: invalid value '' for --addr"},
      {{"produce"}, "ksctl: produce: missing TOPIC"},
      {{"produce", "a", "b"}, "ksctl: produce: unexpected argument 'b'"},
      {{"produce", "-x", "t"}, "ksctl: produce: unknown flag '-x'"},
      {{"produce", "--acks=2", "t"}, "ksctl: produce: invalid value '2' for --acks"},
      {{"produce", "t", "-z"}, "ksctl: produce: missing value for -z"},
      {{"produce", "-z", "brotli", "t"}, "ksctl: produce: invalid value 'brotli' for -z"},
      {{"produce", "-p", "-1", "t"}, "ksctl: produce: invalid value '-1' for -p"},
      {{"produce", "-p", "1x", "t"}, "ksctl: produce: invalid value '1x' for -p"},
      {{"produce", "-k", "", "t"}, "ksctl: produce: invalid value '' for -k"},
      {{"produce", "-H", "=v", "t"}, "ksctl: produce: invalid value '=v' for -H"},
      {{"consume", "t"}, "ksctl: consume: missing -g GROUP"},
      {{"consume", "-g", "g"}, "ksctl: consume: missing TOPIC"},
      {{"consume", "-g", "g", "t", "u"}, "ksctl: consume: unexpected argument 'u'"},
      {{"consume", "-g", "", "t"}, "ksctl: consume: invalid value '' for -g"},
      {{"consume", "-g"}, "ksctl: consume: missing value for -g"},
      {{"consume", "-g", "g", "-n", "0", "t"}, "ksctl: consume: invalid value '0' for -n"},
      {{"consume", "-g", "g", "-n", "-1", "t"}, "ksctl: consume: invalid value '-1' for -n"},
      {{"consume", "-g", "g", "-n", "5x", "t"}, "ksctl: consume: invalid value '5x' for -n"},
      {{"consume", "-g", "g", "-o", "xml", "t"}, "ksctl: consume: invalid value 'xml' for -o"},
      {{"consume", "-g", "g", "--bogus", "t"}, "ksctl: consume: unknown flag '--bogus'"},
      {{"consume", "-g", "g", "--from-beginning=1", "t"},
       "ksctl: consume: unknown flag '--from-beginning'"},
      {{"offsets"}, "ksctl: offsets: missing TOPIC"},
      {{"offsets", "-g", "g"}, "ksctl: offsets: missing TOPIC"},
      {{"offsets", "t", "-g"}, "ksctl: offsets: missing value for -g"},
      {{"offsets", "-g", "", "t"}, "ksctl: offsets: invalid value '' for -g"},
      {{"offsets", "--lag", "t"}, "ksctl: offsets: unknown flag '--lag'"},
      {{"offsets", ""}, "ksctl: offsets: invalid value '' for TOPIC"},
  };
  for (const auto& [args, message] : cases) {
    KsctlRun run = ksctl(args);
    EXPECT_EQ(run.exit_code, kExitUsage) << message;
    EXPECT_TRUE(run.err.starts_with(message)) << run.err;
    EXPECT_EQ(run.out, "");
  }
}

TEST(KsctlUsageTest, StatusCodeNames) {
  EXPECT_EQ(statusCodeName(grpc::StatusCode::NOT_FOUND), "NOT_FOUND");
  EXPECT_EQ(statusCodeName(grpc::StatusCode::DEADLINE_EXCEEDED), "DEADLINE_EXCEEDED");
  EXPECT_EQ(statusCodeName(grpc::StatusCode::UNAUTHENTICATED), "UNAUTHENTICATED");
}

}  // namespace
}  // namespace kafka::ksctl
