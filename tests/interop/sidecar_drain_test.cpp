// Graceful shutdown of a kafka-sidecar process (the built binary), end to end:
//   - SIGTERM in the middle of a load run (a ProduceStream writing, a Subscribe session acking):
//     the daemon exits 0 within --shutdown-timeout-ms; every record the stream sent is acked,
//     each at the offset it was expected at; the session's final commit covers every ack the
//     daemon had applied and passes no record that was not acked; and a second daemon then
//     finds every produced record in Kafka and gets again only what was not committed;
//   - an idle client connection does not hold the stop up;
//   - a second signal during the drain ends the process at once with 128 + its number.
// Each test has its own mock-cluster (one broker) and its own daemon(s).
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "kafka/sidecar/v1/admin.grpc.pb.h"
#include "kafka/sidecar/v1/producer.grpc.pb.h"
#include "tests/integration/mock_cluster_process.hpp"
#include "tests/interop/acking_subscriber.hpp"
#include "tests/interop/sidecar_process.hpp"

namespace kafka::interop {
namespace {

using namespace std::chrono_literals;
using integration::waitUntil;

constexpr int32_t kPartitions = 4;
constexpr auto kSession = 4000ms;
constexpr auto kJoinWait = 15s;
constexpr auto kConsumeWait = 40s;
constexpr auto kShutdownTimeout = 20s;
// gRPC's GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS default.
constexpr auto kClientBackupPoll = 5s;

// The body of GET `target` from 127.0.0.1:`port`; empty when the request failed.
std::string httpGet(uint16_t port, const std::string& target) {
  namespace http = boost::beast::http;
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    http::request<http::string_body> request(http::verb::get, target, 11);
    request.set(http::field::host, "127.0.0.1");
    http::write(socket, request);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    return response.body();
  } catch (const std::exception&) {
    return {};
  }
}

// The value of the Prometheus sample `name{labels}` in `text`; -1 when there is none.
double sample(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

// One ProduceStream writing, in messages of one record per partition, the records that a
// DeliveryLedger expects (valueAt(partition, n) as the n-th record of the partition, on a fresh
// topic) until the daemon ends the stream; a reader thread collects the acks.
class StreamingProducer {
 public:
  StreamingProducer(const std::string& address, std::string topic)
      : topic_(std::move(topic)),
        stub_(v1::Producer::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {
    context_.set_deadline(std::chrono::system_clock::now() + 120s);
    stream_ = stub_->ProduceStream(&context_);
    writer_ = std::thread([this] { writeLoop(); });
    reader_ = std::thread([this] { readLoop(); });
  }
  ~StreamingProducer() {
    if (writer_.joinable() || reader_.joinable()) {
      context_.TryCancel();
      join();
    }
  }
  StreamingProducer(const StreamingProducer&) = delete;
  StreamingProducer& operator=(const StreamingProducer&) = delete;

  size_t acked() const {
    std::lock_guard lock(mutex_);
    return acked_.size();
  }
  bool ended() const {
    std::lock_guard lock(mutex_);
    return ended_;
  }
  // Once ended(): the stream's status.
  grpc::Status finish() {
    join();
    return stream_->Finish();
  }
  // After finish(): ack (partition, offset) by record id, and errors, as text.
  std::map<uint64_t, RecordPosition> acks() const { return acked_; }
  std::vector<std::string> errors() const { return errors_; }

 private:
  void writeLoop() {
    for (uint64_t message = 0;; ++message) {
      v1::ProduceStreamRequest request;
      request.set_topic(topic_);
      for (int32_t partition = 0; partition < kPartitions; ++partition) {
        v1::ProduceRecord* record = request.add_records();
        record->set_id(message * kPartitions + static_cast<uint64_t>(partition));
        record->set_partition(partition);
        record->set_value(DeliveryLedger::valueAt(partition, static_cast<int64_t>(message)));
      }
      if (!stream_->Write(request)) return;
      std::this_thread::sleep_for(2ms);  // a steady load, not a flood
    }
  }

  void readLoop() {
    v1::ProduceStreamResponse response;
    while (stream_->Read(&response)) {
      std::lock_guard lock(mutex_);
      for (const v1::ProduceAck& ack : response.acks()) {
        if (ack.has_error()) {
          errors_.push_back(ack.error().message());
          continue;
        }
        for (int i = 0; i < ack.ids_size(); ++i) {
          acked_[ack.ids(i)] = {ack.partition(), ack.base_offset() + i};
        }
      }
    }
    std::lock_guard lock(mutex_);
    ended_ = true;
  }

  void join() {
    if (reader_.joinable()) reader_.join();
    if (writer_.joinable()) writer_.join();
  }

  const std::string topic_;
  std::unique_ptr<v1::Producer::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ProduceStreamRequest, v1::ProduceStreamResponse>>
      stream_;
  mutable std::mutex mutex_;
  std::map<uint64_t, RecordPosition> acked_;
  std::vector<std::string> errors_;
  bool ended_ = false;
  std::thread writer_;
  std::thread reader_;
};

// For each partition, how many records from offset 0 on are in `positions` without a gap.
std::map<int32_t, int64_t> prefixes(const std::set<RecordPosition>& positions) {
  std::map<int32_t, int64_t> out;
  for (int32_t partition = 0; partition < kPartitions; ++partition) {
    int64_t next = 0;
    while (positions.contains({partition, next})) ++next;
    out[partition] = next;
  }
  return out;
}

class SidecarDrainTest : public integration::MockClusterTest {
 protected:
  SidecarDrainTest() : MockClusterTest({.brokers = 1, .topics = {}}) {}
};

TEST_F(SidecarDrainTest, SigtermDuringLoadLosesNoAckedRecordAndExitsZero) {
  const std::string in = "drain-in";
  const std::string out = "drain-out";
  const std::string group = "g-drain";
  constexpr int64_t kRecords = 400;
  command("topic create " + in + " " + std::to_string(kPartitions));
  command("topic create " + out + " " + std::to_string(kPartitions));
  auto first = std::make_unique<SidecarProcess>(
      "first", bootstrap(),
      std::vector<std::string>{
          "--shutdown-timeout-ms=" +
          std::to_string(std::chrono::milliseconds(kShutdownTimeout).count())});
  produceNumbered(first->grpcAddress(), in, kPartitions, 0, kRecords, 50);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(waitUntil([&] { return first->httpPort() != 0; }, 5s));

  DeliveryLedger ledger(in);
  v1::SessionSpec spec = manualAckSpec(group, in, kSession);
  spec.set_auto_commit_interval_ms(600'000);  // the only commit is the drain's
  AckingSubscriber consumer("first", first->grpcAddress(), spec, ledger, 400);
  ASSERT_TRUE(consumer.waitOpened(10s));
  ASSERT_TRUE(
      waitUntil([&] { return consumer.owned() == partitionRange(kPartitions); }, kJoinWait));
  StreamingProducer producer(first->grpcAddress(), out);
  ASSERT_TRUE(waitUntil([&] { return ledger.acked().size() >= 100 && producer.acked() >= 100; },
                        kConsumeWait));

  // Acks that the daemon has applied: they were sent in this order on one stream, so once the
  // daemon counts as many, it has applied every one of them.
  const std::set<RecordPosition> applied = ledger.acked();
  const std::string acked_series =
      "kafka_sidecar_consumer_records_acked_total{group=\"" + group + "\"}";
  ASSERT_TRUE(waitUntil(
      [&] {
        return sample(httpGet(first->httpPort(), "/metrics"), acked_series) >=
               static_cast<double>(applied.size());
      },
      10s));
  ASSERT_FALSE(producer.ended());
  ASSERT_FALSE(consumer.ended());

  const auto signalled = std::chrono::steady_clock::now();
  EXPECT_EQ(first->stop(kShutdownTimeout + 5s), std::optional<int>(0));
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, kShutdownTimeout);

  // Produce: every record of every message the daemon read was acked, without error, at the
  // offset the ledger expects; the stream ended naming the shutdown.
  ASSERT_TRUE(waitUntil([&] { return producer.ended(); }, 5s));
  const grpc::Status produce_status = producer.finish();
  EXPECT_EQ(produce_status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(produce_status.error_message().find("shutting down"), std::string::npos)
      << produce_status.error_message();
  EXPECT_TRUE(producer.errors().empty()) << producer.errors().front();
  const std::map<uint64_t, RecordPosition> produced = producer.acks();
  ASSERT_FALSE(produced.empty());
  ASSERT_EQ(produced.size() % kPartitions, 0u) << "a message was acked in part";
  const auto produced_per_partition = static_cast<int64_t>(produced.size() / kPartitions);
  for (const auto& [id, position] : produced) {
    EXPECT_LT(id, produced.size()) << "acks are not the first messages sent";
    EXPECT_EQ(position, RecordPosition(static_cast<int32_t>(id % kPartitions),
                                       static_cast<int64_t>(id / kPartitions)))
        << "record " << id;
  }

  // Consume: the call ended naming the shutdown, after the final commit, which covers every ack
  // the daemon had applied and passes no record without an ack.
  const auto consume_status = consumer.waitEnded(5s);
  ASSERT_TRUE(consume_status);
  EXPECT_EQ(consume_status->error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(consume_status->error_message().find("shutting down"), std::string::npos)
      << consume_status->error_message();
  const std::map<int32_t, int64_t> must_commit = prefixes(applied);
  const std::map<int32_t, int64_t> may_commit = prefixes(ledger.acked());
  const auto at_exit = committedByKafkaPython(bootstrap(), group, in, kPartitions);
  ASSERT_EQ(at_exit.size(), static_cast<size_t>(kPartitions));
  for (const auto& [partition, offset] : at_exit) {
    EXPECT_GE(offset, must_commit.at(partition)) << "partition " << partition;
    EXPECT_LE(offset, may_commit.at(partition)) << "partition " << partition;
    ledger.committed(partition, offset);
  }
  first.reset();
  ledger.forget("first");

  // A second daemon: the group goes on from the final commit, and what was produced is there.
  SidecarProcess second("second", bootstrap());
  AckingSubscriber successor("second", second.grpcAddress(), spec, ledger);
  ASSERT_TRUE(successor.waitOpened(10s));
  ASSERT_TRUE(waitUntil([&] { return ledger.complete(partitionRange(kPartitions), kRecords); },
                        kJoinWait + kConsumeWait))
      << ledger.missing(partitionRange(kPartitions), kRecords);
  DeliveryLedger produced_ledger(out);
  AckingSubscriber reader("reader", second.grpcAddress(),
                          manualAckSpec("g-drain-reader", out, kSession), produced_ledger);
  ASSERT_TRUE(reader.waitOpened(10s));
  ASSERT_TRUE(waitUntil(
      [&] { return produced_ledger.complete(partitionRange(kPartitions), produced_per_partition); },
      kJoinWait + kConsumeWait))
      << produced_ledger.missing(partitionRange(kPartitions), produced_per_partition);
  EXPECT_TRUE(successor.close().ok());
  EXPECT_TRUE(reader.close().ok());
  expectNoViolations(ledger);
  expectNoViolations(produced_ledger);
  // Only what the drain did not commit came again.
  for (const auto& [position, times] : ledger.duplicates()) {
    EXPECT_GE(position.second, at_exit.at(position.first))
        << "partition " << position.first << " offset " << position.second;
  }
  int64_t committed_at_exit = 0;
  for (const auto& [partition, offset] : at_exit) committed_at_exit += offset;
  std::cout << "drain: " << produced.size() << " records acked to the stream, " << applied.size()
            << " acks applied before SIGTERM, " << committed_at_exit
            << " records committed at exit, " << ledger.duplicates().size() << " delivered again\n";
  EXPECT_EQ(second.stop(), std::optional<int>(0));
}

// A client whose connection stays open, idle, after its call: the daemon closes it rather than
// wait for the client to hang up. Such a client (in another process, with no call to poll for)
// notices the daemon's GOAWAY only at gRPC's backup poll, every 5 s: a daemon that waited for it
// took that long, however short the drain. The bound below is half of that, a hundred times what
// the stop takes (some 20 ms).
TEST_F(SidecarDrainTest, StopsPromptlyWithAnIdleClientConnectionOpen) {
  constexpr auto kTimeout = 60s;
  SidecarProcess daemon(
      "idle", bootstrap(),
      {"--shutdown-timeout-ms=" + std::to_string(std::chrono::milliseconds(kTimeout).count())});
  auto channel = grpc::CreateChannel(daemon.grpcAddress(), grpc::InsecureChannelCredentials());
  auto admin = v1::Admin::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  v1::ListTopicsResponse topics;
  const grpc::Status listed = admin->ListTopics(&context, v1::ListTopicsRequest(), &topics);
  ASSERT_TRUE(listed.ok()) << listed.error_message();
  ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);

  const auto signalled = std::chrono::steady_clock::now();
  EXPECT_EQ(daemon.stop(kTimeout + 5s), std::optional<int>(0));
  const auto took = std::chrono::steady_clock::now() - signalled;
  EXPECT_LT(took, kClientBackupPoll / 2)
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
}

// A drain held up by Kafka (the final commit waits on a slow broker) ends at once on a second
// signal, with 128 + that signal's number.
TEST_F(SidecarDrainTest, ASecondSignalExitsAtOnce) {
  const std::string topic = "twice";
  command("topic create " + topic + " " + std::to_string(kPartitions));
  SidecarProcess daemon("twice", bootstrap(), {"--shutdown-timeout-ms=60000"});
  DeliveryLedger ledger(topic);
  AckingSubscriber consumer("twice", daemon.grpcAddress(),
                            manualAckSpec("g-twice", topic, kSession), ledger);
  ASSERT_TRUE(consumer.waitOpened(10s));
  ASSERT_TRUE(
      waitUntil([&] { return consumer.owned() == partitionRange(kPartitions); }, kJoinWait));
  command("broker rtt 1 30000");

  daemon.signal(SIGTERM);
  ASSERT_TRUE(waitUntil([&] { return daemon.log().find("draining:") != std::string::npos; }, 5s));
  EXPECT_EQ(daemon.waitExit(0ms), std::nullopt) << "the drain did not wait for the commit";
  daemon.signal(SIGINT);
  EXPECT_EQ(daemon.waitExit(5s), std::optional<int>(128 + SIGINT));
  EXPECT_NE(daemon.log().find("exiting at once with status 130"), std::string::npos);
  command("broker rtt 1 0");
}

}  // namespace
}  // namespace kafka::interop
