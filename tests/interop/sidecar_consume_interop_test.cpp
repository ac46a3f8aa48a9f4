// Records that independent producers wrote, consumed through the sidecar: kcat (librdkafka) and
// kafka-python write to mock-cluster with each codec, and a Consumer.Subscribe call on a Daemon
// in this process reads them back, compared field by field with what was written: offsets in
// order per partition, null, empty and binary keys and values (NUL bytes included), headers in
// order (empty, binary, repeated and, from kcat, null values), and timestamps (kcat's own,
// kafka-python's explicit ones). Our raw Fetch confirms that the stored batches carry the codec.
//
// Most sessions read an `assignment` (no group join; the mock holds a first join for 3 s). The
// group tests subscribe to a topic and also check offsets across implementations: what the
// sidecar commits is what kafka-python's KafkaConsumer.committed() reads, and what kafka-python
// commits is what Admin.DescribeOffsets reports and where a sidecar group member starts.
//
// One mock-cluster and one Daemon serve the whole suite; each test has topics of its own.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <boost/algorithm/string/split.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kafka/sidecar/v1/admin.grpc.pb.h"
#include "kafka/sidecar/v1/consumer.grpc.pb.h"
#include "server/daemon.hpp"
#include "tests/integration/mock_cluster_process.hpp"
#include "tests/interop/direct_client.hpp"
#include "tests/interop/peer_process.hpp"
#include "tests/interop/peer_record.hpp"

namespace kafka::interop {
namespace {

using namespace std::chrono_literals;
namespace v1 = kafka::sidecar::v1;
using record::Compression;

// Records per partition that each peer writes.
constexpr int kRecords = 150;

using PartitionRecords = std::map<int32_t, std::vector<PeerRecord>>;

PeerRecord fromConsumed(const v1::ConsumedRecord& consumed) {
  PeerRecord r;
  r.offset = consumed.offset();
  r.timestamp = consumed.timestamp_ms();
  if (consumed.has_key()) r.key = consumed.key();
  if (consumed.has_value()) r.value = consumed.value();
  for (const v1::RecordHeader& header : consumed.headers()) {
    r.headers.emplace_back(header.key(),
                           header.has_value() ? std::optional(header.value()) : std::nullopt);
  }
  return r;
}

// Field by field, so that a failure names the partition and the record.
void expectRecords(const PartitionRecords& got, const PartitionRecords& expected) {
  EXPECT_EQ(got.size(), expected.size()) << "partitions";
  for (const auto& [partition, records] : expected) {
    const auto found = got.find(partition);
    if (found == got.end()) {
      ADD_FAILURE() << "nothing from partition " << partition;
      continue;
    }
    EXPECT_EQ(found->second.size(), records.size()) << "partition " << partition;
    for (size_t i = 0; i < std::min(records.size(), found->second.size()); ++i) {
      EXPECT_EQ(found->second[i], records[i]) << "partition " << partition << ", record " << i;
    }
  }
}

// One Subscribe call, read on the test thread. Every Read is bounded by the call's deadline, so a
// record that never comes fails the test instead of hanging it.
class SubscribeCall {
 public:
  SubscribeCall(const std::string& address, const v1::SessionSpec& spec)
      : stub_(v1::Consumer::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {
    context_.set_deadline(std::chrono::system_clock::now() + 30s);
    stream_ = stub_->Subscribe(&context_);
    v1::SubscribeRequest open;
    *open.mutable_open() = spec;
    EXPECT_TRUE(stream_->Write(open));
  }

  // Reads until each partition of `ends` has reported its end at the offset given there and has
  // delivered a record before it; returns the records, per partition, in the order they came.
  PartitionRecords readToEnds(const std::map<int32_t, int64_t>& ends) {
    PartitionRecords out;
    std::set<int32_t> ended;
    const auto done = [&] {
      for (const auto& [partition, end] : ends) {
        if (!ended.contains(partition)) return false;
        if (out[partition].empty() || out[partition].back().offset + 1 < end) return false;
      }
      return true;
    };
    v1::SubscribeResponse response;
    while (!done() && stream_->Read(&response)) {
      if (response.has_records()) {
        for (const v1::ConsumedRecord& consumed : response.records().records()) {
          EXPECT_FALSE(consumed.log_append_time()) << "offset " << consumed.offset();
          out[response.records().partition()].push_back(fromConsumed(consumed));
        }
      } else if (response.has_event()) {
        const v1::ConsumerEvent& event = response.event();
        EXPECT_FALSE(event.has_error()) << event.error().error().message();
        if (event.has_end_of_partition()) {
          const auto end = ends.find(event.end_of_partition().partition());
          if (end != ends.end() && end->second == event.end_of_partition().offset()) {
            ended.insert(end->first);
          }
        }
      }
    }
    EXPECT_TRUE(done()) << "the call ended before every partition reached its end";
    return out;
  }

  // Reads until an event that `match` accepts; records that come meanwhile are dropped.
  std::optional<v1::ConsumerEvent> readEvent(
      const std::function<bool(const v1::ConsumerEvent&)>& match) {
    v1::SubscribeResponse response;
    while (stream_->Read(&response)) {
      if (response.has_event() && match(response.event())) return response.event();
    }
    return std::nullopt;
  }

  bool send(const v1::SubscribeRequest& request) { return stream_->Write(request); }

  // Closes the session (committing what was acked) and ends the call.
  grpc::Status close() {
    v1::SubscribeRequest close;
    close.set_close(true);
    if (stream_->Write(close)) stream_->WritesDone();
    v1::SubscribeResponse rest;
    while (stream_->Read(&rest)) {
    }
    return stream_->Finish();
  }

 private:
  std::unique_ptr<v1::Consumer::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::SubscribeRequest, v1::SubscribeResponse>> stream_;
};

// A session of `group` reading partitions 0 and 1 of `topic` from the start, without a join,
// acking records as they are written to the call.
v1::SessionSpec assignmentSpec(const std::string& group, const std::string& topic) {
  v1::SessionSpec spec;
  spec.set_group(group);
  v1::TopicPartitions* entry = spec.add_assignment();
  entry->set_topic(topic);
  entry->add_partitions(0);
  entry->add_partitions(1);
  spec.set_offset_reset(v1::OFFSET_RESET_EARLIEST);
  spec.set_ack_mode(v1::ACK_MODE_AUTO);
  spec.set_auto_commit_interval_ms(600'000);
  return spec;
}

// The same as a member of `group` subscribed to `topic`.
v1::SessionSpec groupSpec(const std::string& group, const std::string& topic) {
  v1::SessionSpec spec = assignmentSpec(group, topic);
  spec.clear_assignment();
  spec.add_topics(topic);
  spec.set_session_timeout_ms(6000);
  return spec;
}

// What kcat writes in one run, and its input: messages end with \x1e, and a key, when there is
// one, with \x1f. With -Z (`null_if_empty`) an empty key or value is sent as null, so one run
// without it and one with it cover empty and null. kcat cannot set timestamps (they are taken
// from kcat's own reading), and applies the same headers (-H) to every record.
struct KcatRun {
  std::vector<PeerRecord> records;
  std::string input;
};

KcatRun kcatRun(bool null_if_empty) {
  const std::vector<std::pair<std::string, std::optional<std::string>>> headers = {
      {"trace", "kcat"},           {"empty", ""}, {"gone", std::nullopt},
      {"bin", "\xc3\xa9\xff\x01"}, {"dup", "1"},  {"dup", "2"}};
  KcatRun run;
  for (int i = 0; i < kRecords; ++i) {
    PeerRecord r;
    r.offset = i;
    const int k = null_if_empty ? i % 6 : i % 10;
    const bool keyed = k != 0;
    if (keyed) r.key = k == 1 ? std::string() : std::string("\x00k\n\xff", 4) + std::to_string(i);
    if (keyed && i % 7 == 3) {
      r.value = "";  // only with a key: kcat skips an empty input message
    } else {
      r.value = std::string("\x00v\xff\r\n\t\"\\", 8) + filler(i);
      // The key delimiter again: only its first occurrence ends the key.
      if (keyed) r.value->append("\x1f\x7f", 2);
    }
    run.input += (keyed ? *r.key + "\x1f" : "") + *r.value + "\x1e";
    if (null_if_empty) {
      if (r.key && r.key->empty()) r.key.reset();
      if (r.value->empty()) r.value.reset();
    } else {
      r.headers = headers;
    }
    run.records.push_back(std::move(r));
  }
  return run;
}

// kafka-python's records: explicit timestamps (some going back), header values never null
// (kafka-python 2.0.2 cannot write them), never both key and value null (it refuses that).
std::vector<PeerRecord> pythonRecords(int seed) {
  std::vector<PeerRecord> records;
  for (int i = 0; i < kRecords; ++i) {
    const int n = i + seed;
    PeerRecord r;
    r.offset = i;
    r.timestamp = 1700000000000 + n * 3 - (n % 10 == 3 ? 60000 : 0);
    if (n % 5 == 1) {
      r.key = "";
    } else if (n % 5 != 0) {
      r.key = std::string("\x00py\xff\n", 5) + std::to_string(n);
    }
    if (r.key && n % 11 == 4) {
      r.value = std::nullopt;
    } else if (n % 11 == 6) {
      r.value = "";
    } else {
      r.value = std::string("\x01\x00 \xfe\"", 5) + filler(n) + std::string("\x00", 1);
    }
    if (n % 3 == 0) {
      r.headers = {
          {"trace", "t-" + std::to_string(n)}, {"empty", ""}, {"bin", std::string("\x00\xff", 2)}};
    } else if (n % 3 == 1) {
      r.headers = {{"dup", "1"}, {"dup", "2"}};
    }
    records.push_back(std::move(r));
  }
  return records;
}

std::vector<PeerRecord> from(const std::vector<PeerRecord>& records, size_t first) {
  return {records.begin() + static_cast<std::ptrdiff_t>(first), records.end()};
}

class SidecarConsumeInteropTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new integration::MockClusterProcess({.brokers = 3, .topics = {}});
    sidecar::DaemonConfig config;
    config.grpc_listen = "127.0.0.1:0";
    config.http_listen = {"127.0.0.1", 0};
    config.threads = 2;
    boost::algorithm::split(config.bootstrap_servers, cluster_->bootstrap(),
                            [](char c) { return c == ','; });
    daemon_ = new sidecar::Daemon(std::move(config), sidecar::Daemon::Signals::kIgnore);
    daemon_->start();
    client_ = new DirectClient(cluster_->bootstrap());
  }

  // Connections close before the broker goes away.
  static void TearDownTestSuite() {
    daemon_->requestStop();
    daemon_->wait();
    delete daemon_;
    delete client_;
    EXPECT_EQ(cluster_->stop(), std::optional<int>(0)) << "mock-cluster did not exit cleanly";
    delete cluster_;
  }

  static const std::string& bootstrap() { return cluster_->bootstrap(); }

  // A topic of two partitions.
  static void createTopic(const std::string& topic) {
    cluster_->command("topic create " + topic + " 2");
  }

  // kcat writes `records` to `partition`, and reads them back: the records as kcat sees them,
  // which must be `records` with kcat's timestamps.
  static std::vector<PeerRecord> produceWithKcat(const std::string& topic, int32_t partition,
                                                 Compression codec, bool null_if_empty) {
    KcatRun run = kcatRun(null_if_empty);
    std::vector<PeerRecord>& expected = run.records;
    std::vector<std::string> argv = {"kcat",      "-b",
                                     bootstrap(), "-P",
                                     "-t",        topic,
                                     "-p",        std::to_string(partition),
                                     "-D",        "\\x1e",
                                     "-K",        "\\x1f",
                                     "-X",        "linger.ms=100",
                                     "-X",        "batch.num.messages=40"};
    if (null_if_empty) argv.push_back("-Z");
    // The run's headers, the same on every record.
    for (const auto& [name, value] : expected.front().headers) {
      argv.insert(argv.end(), {"-H", value ? name + "=" + *value : name});
    }
    if (codec != Compression::kNone) argv.insert(argv.end(), {"-z", codecName(codec)});
    const int64_t before = nowMs();
    PeerRun produced = runPeer(argv, run.input);
    EXPECT_TRUE(produced.ok()) << produced.describe();
    const int64_t after = nowMs();

    PeerRun read =
        runPeer({"kcat", "-b", bootstrap(), "-C", "-t", topic, "-p", std::to_string(partition),
                 "-o", "beginning", "-e", "-q", "-J", "-X", "check.crcs=true"});
    EXPECT_TRUE(read.ok()) << read.describe();
    std::vector<PeerRecord> seen = fromKcatJson(read.out);
    EXPECT_EQ(seen.size(), expected.size());
    for (size_t i = 0; i < std::min(seen.size(), expected.size()); ++i) {
      EXPECT_GE(seen[i].timestamp, before - 1000);
      EXPECT_LE(seen[i].timestamp, after + 1000);
      expected[i].timestamp = seen[i].timestamp;
    }
    expectRecords({{partition, seen}}, {{partition, expected}});
    return seen;
  }

  static void produceWithPython(const std::string& topic, int32_t partition, Compression codec,
                                const std::vector<PeerRecord>& records) {
    PeerRun produced = runPeer({"/usr/bin/python3", kPythonPeer, "produce", bootstrap(), topic,
                                codecName(codec), std::to_string(partition)},
                               toLines(records));
    EXPECT_TRUE(produced.ok()) << produced.describe();
  }

  // kafka-python's committed offsets of `group` for partitions 0 and 1 of `topic`, as
  // "0 OFFSET\n1 OFFSET\n" (-1: none).
  static std::string committedByPython(const std::string& group, const std::string& topic) {
    PeerRun run = runPeer(
        {"/usr/bin/python3", kPythonPeer, "committed", bootstrap(), group, topic, "0", "1"});
    EXPECT_TRUE(run.ok()) << run.describe();
    return run.out;
  }

  // The sidecar's Admin.DescribeOffsets answer for partitions 0 and 1 of `topic` and `group`, as
  // "P committed=C lag=L\n" lines (`-` when absent), with " metadata=M" before the newline when
  // the commit has metadata.
  static std::string committedBySidecar(const std::string& group, const std::string& topic) {
    auto stub = v1::Admin::NewStub(
        grpc::CreateChannel(daemon_->grpcAddress(), grpc::InsecureChannelCredentials()));
    v1::DescribeOffsetsRequest request;
    request.add_topics(topic);
    request.set_group(group);
    v1::DescribeOffsetsResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 20s);
    grpc::Status status = stub->DescribeOffsets(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::string out;
    for (const v1::TopicOffsets& t : response.topics()) {
      for (const v1::PartitionOffsetInfo& p : t.partitions()) {
        if (p.partition() > 1) continue;
        EXPECT_FALSE(p.has_error()) << p.error().message();
        out += std::to_string(p.partition()) +
               " committed=" + (p.has_committed() ? std::to_string(p.committed()) : "-") +
               " lag=" + (p.has_lag() ? std::to_string(p.lag()) : "-");
        if (!p.committed_metadata().empty()) out += " metadata=" + p.committed_metadata();
        out += "\n";
      }
    }
    return out;
  }

  // The codecs of the batches stored in partition 0.
  static std::set<Compression> codecsOfPartition0(const std::string& topic) {
    std::set<Compression> codecs;
    client_->fetchRecords(topic, kRecords, codecs);
    return codecs;
  }

  static PartitionRecords consume(const v1::SessionSpec& spec,
                                  const std::map<int32_t, int64_t>& ends) {
    SubscribeCall call(daemon_->grpcAddress(), spec);
    PartitionRecords records = call.readToEnds(ends);
    grpc::Status status = call.close();
    EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
    return records;
  }

  static inline integration::MockClusterProcess* cluster_ = nullptr;
  static inline sidecar::Daemon* daemon_ = nullptr;
  static inline DirectClient* client_ = nullptr;
};

class SidecarConsumeCodecTest : public SidecarConsumeInteropTest,
                                public ::testing::WithParamInterface<Compression> {};

TEST_P(SidecarConsumeCodecTest, WhatKcatWroteIsConsumed) {
  const Compression codec = GetParam();
  const std::string topic = "from-kcat-" + codecName(codec);
  createTopic(topic);
  PartitionRecords expected;
  expected[0] = produceWithKcat(topic, 0, codec, false);
  expected[1] = produceWithKcat(topic, 1, codec, true);
  EXPECT_EQ(codecsOfPartition0(topic), std::set<Compression>{codec});

  expectRecords(consume(assignmentSpec("g-" + topic, topic), {{0, kRecords}, {1, kRecords}}),
                expected);
}

TEST_P(SidecarConsumeCodecTest, WhatKafkaPythonWroteIsConsumed) {
  const Compression codec = GetParam();
  const std::string topic = "from-python-" + codecName(codec);
  createTopic(topic);
  const PartitionRecords expected = {{0, pythonRecords(0)}, {1, pythonRecords(kRecords)}};
  for (const auto& [partition, records] : expected) {
    produceWithPython(topic, partition, codec, records);
  }
  EXPECT_EQ(codecsOfPartition0(topic), std::set<Compression>{codec});

  expectRecords(consume(assignmentSpec("g-" + topic, topic), {{0, kRecords}, {1, kRecords}}),
                expected);
}

INSTANTIATE_TEST_SUITE_P(Codecs, SidecarConsumeCodecTest, ::testing::ValuesIn(kCodecs),
                         [](const auto& param_info) { return codecName(param_info.param); });

// A group member reads what kcat wrote (two codecs at once); when it closes it commits what it
// read, and kafka-python reads those commits.
TEST_F(SidecarConsumeInteropTest, KcatRecordsThroughAGroupAndItsCommitsReadByKafkaPython) {
  const std::string topic = "kcat-group";
  const std::string group = "g-kcat";
  createTopic(topic);
  PartitionRecords expected;
  expected[0] = produceWithKcat(topic, 0, Compression::kLz4, true);
  expected[1] = produceWithKcat(topic, 1, Compression::kZstd, false);

  expectRecords(consume(groupSpec(group, topic), {{0, kRecords}, {1, kRecords}}), expected);
  const std::string end = std::to_string(kRecords);
  EXPECT_EQ(committedByPython(group, topic), "0 " + end + "\n1 " + end + "\n");
}

// kafka-python commits an offset for partition 0 only; a sidecar member of the same group starts
// there, and at the beginning of partition 1.
TEST_F(SidecarConsumeInteropTest, AGroupMemberStartsWhereKafkaPythonCommitted) {
  const std::string topic = "python-group";
  const std::string group = "g-python";
  createTopic(topic);
  const PartitionRecords written = {{0, pythonRecords(7)}, {1, pythonRecords(500)}};
  produceWithPython(topic, 0, Compression::kSnappy, written.at(0));
  produceWithPython(topic, 1, Compression::kGzip, written.at(1));
  constexpr int kCommitted = 37;
  PeerRun commit = runPeer({"/usr/bin/python3", kPythonPeer, "commit", bootstrap(), group, topic,
                            "0:" + std::to_string(kCommitted)});
  ASSERT_TRUE(commit.ok()) << commit.describe();
  EXPECT_EQ(committedByPython(group, topic), "0 " + std::to_string(kCommitted) + "\n1 -1\n");
  EXPECT_EQ(committedBySidecar(group, topic), "0 committed=" + std::to_string(kCommitted) +
                                                  " lag=" + std::to_string(kRecords - kCommitted) +
                                                  "\n1 committed=- lag=-\n");

  const PartitionRecords expected = {{0, from(written.at(0), kCommitted)}, {1, written.at(1)}};
  expectRecords(consume(groupSpec(group, topic), {{0, kRecords}, {1, kRecords}}), expected);
}

// Manual acks, out of order and with a gap, then Commit: kafka-python reads the offsets below
// the first unacked record, before and after the session closes, and Admin.DescribeOffsets
// reads them with the session's commit metadata.
TEST_F(SidecarConsumeInteropTest, ManualAcksCommittedThroughTheSidecarAreReadByKafkaPython) {
  const std::string topic = "acked";
  const std::string group = "g-acked";
  createTopic(topic);
  produceWithPython(topic, 0, Compression::kNone, pythonRecords(0));
  produceWithPython(topic, 1, Compression::kZstd, pythonRecords(1));
  v1::SessionSpec spec = assignmentSpec(group, topic);
  spec.set_ack_mode(v1::ACK_MODE_MANUAL);
  spec.set_commit_metadata("pod-7");

  SubscribeCall call(daemon_->grpcAddress(), spec);
  PartitionRecords got = call.readToEnds({{0, kRecords}, {1, kRecords}});
  EXPECT_EQ(got[0].size(), static_cast<size_t>(kRecords));
  EXPECT_EQ(got[1].size(), static_cast<size_t>(kRecords));
  v1::SubscribeRequest ack;
  v1::PartitionOffsets* p0 = ack.mutable_ack()->add_partitions();
  p0->set_topic(topic);
  p0->set_partition(0);
  for (int64_t offset : {5, 0, 2, 1, 4, 3, 7, 8}) p0->add_offsets(offset);  // not 6
  v1::PartitionOffsets* p1 = ack.mutable_ack()->add_partitions();
  p1->set_topic(topic);
  p1->set_partition(1);
  for (int64_t offset = 0; offset < 100; ++offset) p1->add_offsets(offset);
  ASSERT_TRUE(call.send(ack));
  v1::SubscribeRequest commit;
  commit.set_commit(true);
  ASSERT_TRUE(call.send(commit));
  std::optional<v1::ConsumerEvent> committed =
      call.readEvent([](const v1::ConsumerEvent& event) { return event.has_committed(); });
  ASSERT_TRUE(committed);
  std::map<int32_t, int64_t> offsets;
  for (const v1::PartitionCommit& partition : committed->committed().partitions()) {
    EXPECT_FALSE(partition.has_error()) << partition.error().message();
    EXPECT_EQ(partition.topic(), topic);
    offsets[partition.partition()] = partition.offset();
  }
  EXPECT_EQ(offsets, (std::map<int32_t, int64_t>{{0, 6}, {1, 100}}));
  EXPECT_EQ(committedByPython(group, topic), "0 6\n1 100\n");
  EXPECT_EQ(committedBySidecar(group, topic),
            "0 committed=6 lag=" + std::to_string(kRecords - 6) + " metadata=pod-7\n" +
                "1 committed=100 lag=" + std::to_string(kRecords - 100) + " metadata=pod-7\n");

  grpc::Status status = call.close();
  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  EXPECT_EQ(committedByPython(group, topic), "0 6\n1 100\n");
}

}  // namespace
}  // namespace kafka::interop
