// GET /metrics end to end: a Daemon in this process, reading from a mock cluster the test owns,
// is driven through gRPC (Produce, ProduceStream, Subscribe with manual acks) and scraped over
// HTTP; the counters must move by exactly what was done, and the names must follow Prometheus'
// conventions.
#include "server/metrics.hpp"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/sidecar/v1/consumer.grpc.pb.h"
#include "kafka/sidecar/v1/producer.grpc.pb.h"
#include "server/daemon.hpp"
#include "tests/server/test_support.hpp"
#include "tools/mock_cluster/mock_cluster.hpp"

namespace kafka::sidecar {
namespace {

using namespace std::chrono_literals;
using testing::kWait;
using testing::waitUntil;

// A scrape: each sample's series ("name{labels}") and value, and each family's type by name.
struct Scrape {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;

  // The value of `series`, or 0 when it is not there (as for a counter not yet touched).
  double operator[](const std::string& series) const {
    auto found = samples.find(series);
    return found == samples.end() ? 0 : found->second;
  }
};

Scrape parse(const std::string& text) {
  Scrape out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (line.starts_with("# TYPE ")) {
      std::istringstream fields(line.substr(7));
      std::string name;
      std::string type;
      fields >> name >> type;
      out.types[name] = type;
      continue;
    }
    if (line.starts_with("#")) continue;
    const size_t space = line.rfind(' ');
    if (space == std::string::npos) {
      ADD_FAILURE() << "not a sample: " << line;
      continue;
    }
    out.samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

std::string topicSeries(const std::string& name, const std::string& topic) {
  return "kafka_sidecar_" + name + "{topic=\"" + topic + "\"}";
}

std::string groupSeries(const std::string& name, const std::string& group) {
  return "kafka_sidecar_consumer_" + name + "{group=\"" + group + "\"}";
}

const std::string kLatencyCount = "kafka_sidecar_produce_latency_seconds_count";
const std::string kSessionsOpen = "kafka_sidecar_consumer_sessions_open";

// Each of `families` is in the scrape; every name there starts with kafka_sidecar_, and every
// counter's ends with _total. (Families show only once they have a series, so each test checks
// those it made.)
void expectConventions(const Scrape& scrape, std::initializer_list<std::string_view> families) {
  for (std::string_view name : families) {
    EXPECT_TRUE(scrape.types.contains(std::string(name))) << name;
  }
  for (const auto& [name, type] : scrape.types) {
    EXPECT_TRUE(name.starts_with("kafka_sidecar_")) << name;
    if (type == "counter") {
      EXPECT_TRUE(name.ends_with("_total")) << name;
    }
  }
  for (const auto& [series, value] : scrape.samples) {
    EXPECT_TRUE(series.starts_with("kafka_sidecar_")) << series;
  }
}

TEST(MetricsUnitTest, SeriesAreSharedPerLabelAndScraped) {
  Metrics metrics;
  metrics.session("g").acked.Increment(2);
  metrics.session("g").acked.Increment();
  metrics.produce("t").bytes.Increment(10);
  metrics.sessionsOpen().Increment();
  const Scrape now = parse(metrics.scrape());
  EXPECT_EQ(now[groupSeries("records_acked_total", "g")], 3);
  EXPECT_EQ(now[groupSeries("records_delivered_total", "g")], 0);
  EXPECT_EQ(now[topicSeries("produce_bytes_total", "t")], 10);
  EXPECT_EQ(now[kSessionsOpen], 1);
  EXPECT_EQ(now[kLatencyCount], 0);
  EXPECT_EQ(Metrics::kContentType, "text/plain; version=0.0.4; charset=utf-8");
}

class MetricsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mock_ = new mock::MockCluster(1);
    DaemonConfig config = testing::loopbackDaemonConfig(mock_->bootstraps());
    daemon_ = new Daemon(std::move(config), Daemon::Signals::kIgnore);
    daemon_->start();
    auto channel = grpc::CreateChannel(daemon_->grpcAddress(), grpc::InsecureChannelCredentials());
    producer_ = v1::Producer::NewStub(channel).release();
    consumer_ = v1::Consumer::NewStub(channel).release();
  }

  static void TearDownTestSuite() {
    delete producer_;
    delete consumer_;
    daemon_->requestStop();
    daemon_->wait();
    delete daemon_;
    delete mock_;
  }

  static Scrape scrape() {
    testing::HttpReply reply =
        testing::httpRequest(daemon_->httpEndpoint().port(), "GET", "/metrics");
    EXPECT_EQ(reply.status, 200u) << reply.error;
    return parse(reply.body);
  }

  static std::unique_ptr<grpc::ClientContext> callContext() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + kWait);
    return context;
  }

  static v1::ProduceRecord* addRecord(google::protobuf::RepeatedPtrField<v1::ProduceRecord>& to,
                                      const std::string& key, const std::string& value) {
    v1::ProduceRecord* record = to.Add();
    record->set_key(key);
    record->set_value(value);
    return record;
  }

  static inline mock::MockCluster* mock_ = nullptr;
  static inline Daemon* daemon_ = nullptr;
  static inline v1::Producer::Stub* producer_ = nullptr;
  static inline v1::Consumer::Stub* consumer_ = nullptr;
};

TEST_F(MetricsTest, ProduceAndProduceStreamCountRecordsBytesErrorsAndLatency) {
  const std::string topic = "metrics-produce";
  mock_->createTopic(topic, 2);
  const Scrape before = scrape();

  // Produce: 5 records, and one refused (a negative partition) that counts as an error.
  v1::ProduceRequest request;
  request.set_topic(topic);
  uint64_t bytes = 0;
  for (int i = 0; i < 5; ++i) {
    const std::string key = "key-" + std::to_string(i);
    const std::string value = std::string(static_cast<size_t>(10 * i), 'v');
    addRecord(*request.mutable_records(), key, value);
    bytes += key.size() + value.size();
  }
  addRecord(*request.mutable_records(), "k", "refused")->set_partition(-1);
  v1::ProduceResponse response;
  ASSERT_TRUE(producer_->Produce(callContext().get(), request, &response).ok());
  ASSERT_EQ(response.results_size(), 6);
  EXPECT_TRUE(response.results(5).has_error());

  // ProduceStream: 3 records in one message.
  auto context = callContext();
  auto stream = producer_->ProduceStream(context.get());
  v1::ProduceStreamRequest message;
  message.set_topic(topic);
  for (int i = 0; i < 3; ++i) {
    const std::string key = "s" + std::to_string(i);
    const std::string value = "stream-value";
    addRecord(*message.mutable_records(), key, value)->set_id(static_cast<uint64_t>(i));
    bytes += key.size() + value.size();
  }
  ASSERT_TRUE(stream->Write(message));
  ASSERT_TRUE(stream->WritesDone());
  size_t acked = 0;
  for (v1::ProduceStreamResponse acks; stream->Read(&acks);) {
    for (const v1::ProduceAck& ack : acks.acks()) {
      EXPECT_FALSE(ack.has_error()) << ack.error().message();
      acked += static_cast<size_t>(ack.ids_size());
    }
  }
  ASSERT_TRUE(stream->Finish().ok());
  ASSERT_EQ(acked, 3u);

  const Scrape after = scrape();
  EXPECT_EQ(before[topicSeries("produce_records_total", topic)], 0);
  EXPECT_EQ(after[topicSeries("produce_records_total", topic)], 8);
  EXPECT_EQ(after[topicSeries("produce_bytes_total", topic)], static_cast<double>(bytes));
  EXPECT_EQ(after[topicSeries("produce_errors_total", topic)], 1);
  // One observation per record sent; the refused one was never sent.
  EXPECT_EQ(after[kLatencyCount] - before[kLatencyCount], 8);
  EXPECT_GT(after["kafka_sidecar_produce_latency_seconds_sum"],
            before["kafka_sidecar_produce_latency_seconds_sum"]);
  expectConventions(after, {"kafka_sidecar_produce_records_total",
                            "kafka_sidecar_produce_bytes_total",
                            "kafka_sidecar_produce_errors_total",
                            "kafka_sidecar_produce_latency_seconds"});
}

TEST_F(MetricsTest, SessionCountsDeliveriesAcksAndRedeliveries) {
  const std::string topic = "metrics-consume";
  const std::string group = "g-metrics";
  constexpr int kRecords = 6;
  constexpr int kAcked = 4;
  mock_->createTopic(topic, 1);
  v1::ProduceRequest produce;
  produce.set_topic(topic);
  for (int i = 0; i < kRecords; ++i) addRecord(*produce.mutable_records(), "k", "v");
  v1::ProduceResponse produced;
  ASSERT_TRUE(producer_->Produce(callContext().get(), produce, &produced).ok());
  EXPECT_EQ(scrape()[kSessionsOpen], 0);

  // Reads the partition from the start; what is not acked within 1 s is delivered again.
  v1::SubscribeRequest open;
  v1::SessionSpec& spec = *open.mutable_open();
  spec.set_group(group);
  spec.set_name("test");
  v1::TopicPartitions* assignment = spec.add_assignment();
  assignment->set_topic(topic);
  assignment->add_partitions(0);
  spec.set_offset_reset(v1::OFFSET_RESET_EARLIEST);
  spec.set_ack_mode(v1::ACK_MODE_MANUAL);
  spec.set_ack_timeout_ms(1000);
  auto context = callContext();
  auto stream = consumer_->Subscribe(context.get());
  ASSERT_TRUE(stream->Write(open));
  int received = 0;
  for (v1::SubscribeResponse response; received < kRecords && stream->Read(&response);) {
    if (response.has_records()) received += response.records().records_size();
  }
  ASSERT_EQ(received, kRecords);
  EXPECT_EQ(scrape()[kSessionsOpen], 1);

  v1::SubscribeRequest ack;
  v1::PartitionOffsets* offsets = ack.mutable_ack()->add_partitions();
  offsets->set_topic(topic);
  offsets->set_partition(0);
  for (int64_t offset = 0; offset < kAcked; ++offset) offsets->add_offsets(offset);
  ASSERT_TRUE(stream->Write(ack));

  // The unacked rest comes again after the ack timeout.
  EXPECT_TRUE(waitUntil([&] {
    const Scrape now = scrape();
    return now[groupSeries("records_acked_total", group)] == kAcked &&
           now[groupSeries("records_redelivered_total", group)] >= kRecords - kAcked;
  }));
  const Scrape open_now = scrape();
  EXPECT_EQ(open_now[groupSeries("records_delivered_total", group)], kRecords);
  EXPECT_EQ(open_now[groupSeries("records_acked_total", group)], kAcked);

  v1::SubscribeRequest close;
  close.set_close(true);
  ASSERT_TRUE(stream->Write(close));
  ASSERT_TRUE(stream->WritesDone());
  for (v1::SubscribeResponse response; stream->Read(&response);) {
  }
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(waitUntil([] { return scrape()[kSessionsOpen] == 0; }));
  expectConventions(scrape(), {"kafka_sidecar_consumer_records_delivered_total",
                               "kafka_sidecar_consumer_records_acked_total",
                               "kafka_sidecar_consumer_records_redelivered_total",
                               "kafka_sidecar_consumer_rebalances_total",
                               "kafka_sidecar_consumer_sessions_open"});
}

}  // namespace
}  // namespace kafka::sidecar
