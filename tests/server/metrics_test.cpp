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
#include <thread>
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

// A series of `name` with `labels` as the text format writes them: sorted by label name.
std::string series(const std::string& name, const std::map<std::string, std::string>& labels) {
  std::string out = "kafka_sidecar_" + name + "{";
  for (const auto& [label, value] : labels) {
    if (out.back() != '{') out += ",";
    out += label + "=\"" + value + "\"";
  }
  return out + "}";
}

std::string brokerSeries(const std::string& name, const std::string& broker) {
  return series(name, {{"cluster", "default"}, {"broker", broker}});
}

std::string requestCount(const std::string& api) {
  return series("broker_request_latency_seconds_count", {{"cluster", "default"}, {"api", api}});
}

const std::string kLatencyCount = "kafka_sidecar_produce_latency_seconds_count";
const std::string kBufferBytes = "kafka_sidecar_producer_buffer_bytes";
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
    startDaemon();
  }

  // A daemon on mock_ (bootstrapping from its first broker), and the stubs.
  static void startDaemon() {
    const std::string& all = mock_->bootstraps();
    DaemonConfig config = testing::loopbackDaemonConfig(all.substr(0, all.find(',')));
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

  // Creates `topic` with one partition and produces `records` records to it.
  static void createAndFill(const std::string& topic, int records) {
    mock_->createTopic(topic, 1);
    v1::ProduceRequest produce;
    produce.set_topic(topic);
    for (int i = 0; i < records; ++i) addRecord(*produce.mutable_records(), "k", "v");
    v1::ProduceResponse produced;
    ASSERT_TRUE(producer_->Produce(callContext().get(), produce, &produced).ok());
  }

  // Opens a session of `group` reading partition 0 of `topic` from the start, with manual acks.
  static v1::SubscribeRequest openPartitionZero(const std::string& topic,
                                                const std::string& group) {
    v1::SubscribeRequest open;
    v1::SessionSpec& spec = *open.mutable_open();
    spec.set_group(group);
    spec.set_name("test");
    v1::TopicPartitions* assignment = spec.add_assignment();
    assignment->set_topic(topic);
    assignment->add_partitions(0);
    spec.set_offset_reset(v1::OFFSET_RESET_EARLIEST);
    spec.set_ack_mode(v1::ACK_MODE_MANUAL);
    return open;
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
  ASSERT_NO_FATAL_FAILURE(createAndFill(topic, kRecords));
  EXPECT_EQ(scrape()[kSessionsOpen], 0);

  // Reads the partition from the start; what is not acked within 1 s is delivered again.
  v1::SubscribeRequest open = openPartitionZero(topic, group);
  open.mutable_open()->set_ack_timeout_ms(1000);
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

TEST_F(MetricsTest, GrpcAndRestRequestsCountByMethodRouteAndCode) {
  const std::string topic = "metrics-calls";
  mock_->createTopic(topic, 1);
  const std::string produce_method = "/kafka.sidecar.v1.Producer/Produce";
  const std::string records_route = "POST /v1/topics/{topic}/records";
  const Scrape before = scrape();

  // gRPC: three calls that succeed, one for a cluster that does not exist.
  v1::ProduceRequest request;
  request.set_topic(topic);
  addRecord(*request.mutable_records(), "k", "v");
  for (int i = 0; i < 3; ++i) {
    v1::ProduceResponse response;
    ASSERT_TRUE(producer_->Produce(callContext().get(), request, &response).ok());
  }
  request.set_cluster("no-such-cluster");
  v1::ProduceResponse refused;
  EXPECT_EQ(producer_->Produce(callContext().get(), request, &refused).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // REST: two produce requests (each one gRPC call too), and a path that no route serves.
  const uint16_t port = daemon_->httpEndpoint().port();
  for (int i = 0; i < 2; ++i) {
    const testing::HttpReply reply = testing::httpRequest(
        port, "POST", "/v1/topics/" + topic + "/records", R"({"records": [{"value": "aGk="}]})");
    ASSERT_EQ(reply.status, 200u) << reply.body;
  }
  EXPECT_EQ(testing::httpRequest(port, "GET", "/v1/topics/" + topic + "/nothing").status, 404u);

  const Scrape after = scrape();
  const auto moved = [&](const std::string& name) { return after[name] - before[name]; };
  EXPECT_EQ(moved(series("grpc_requests_total", {{"method", produce_method}, {"code", "OK"}})), 5);
  EXPECT_EQ(
      moved(series("grpc_requests_total", {{"method", produce_method}, {"code", "NOT_FOUND"}})), 1);
  EXPECT_EQ(moved(series("http_requests_total", {{"route", records_route}, {"code", "200"}})), 2);
  EXPECT_EQ(moved(series("http_requests_total", {{"route", "unmatched"}, {"code", "404"}})), 1);
  // The scrape before this one.
  EXPECT_EQ(moved(series("http_requests_total", {{"route", "GET /metrics"}, {"code", "200"}})), 1);
  // Raw paths never become labels.
  for (const auto& [name, value] : after.samples) {
    EXPECT_EQ(name.find("/v1/topics/" + topic), std::string::npos) << name;
  }
  expectConventions(after,
                    {"kafka_sidecar_grpc_requests_total", "kafka_sidecar_http_requests_total"});
}

TEST_F(MetricsTest, LagPerPartitionFollowsTheSessionAndGoesWithIt) {
  const std::string topic = "metrics-lag";
  const std::string group = "g-lag";
  constexpr int kRecords = 10;
  constexpr int kFirst = 4;  // taken before any ack: the session's max_unacked_records
  ASSERT_NO_FATAL_FAILURE(createAndFill(topic, kRecords));
  const Scrape before = scrape();
  const std::string lag =
      series("consumer_lag_records", {{"group", group}, {"topic", topic}, {"partition", "0"}});

  v1::SubscribeRequest open = openPartitionZero(topic, group);
  open.mutable_open()->set_max_unacked_records(kFirst);
  auto context = callContext();
  auto stream = consumer_->Subscribe(context.get());
  ASSERT_TRUE(stream->Write(open));
  int64_t next = 0;  // the next offset expected
  const auto receive = [&](int64_t until) {
    for (v1::SubscribeResponse response; next < until && stream->Read(&response);) {
      for (const auto& record : response.records().records()) {
        EXPECT_EQ(record.offset(), next);
        ++next;
      }
    }
  };
  receive(kFirst);
  ASSERT_EQ(next, kFirst);
  // Taken: kFirst; the rest waits for room.
  EXPECT_TRUE(waitUntil([&] { return scrape()[lag] == kRecords - kFirst; })) << scrape()[lag];

  // Acking makes room: everything is taken, and the lag is 0.
  while (next < kRecords) {
    v1::SubscribeRequest ack;
    v1::PartitionOffsets* offsets = ack.mutable_ack()->add_partitions();
    offsets->set_topic(topic);
    offsets->set_partition(0);
    for (int64_t offset = next - kFirst; offset < next; ++offset) {
      if (offset >= 0) offsets->add_offsets(offset);
    }
    ASSERT_TRUE(stream->Write(ack));
    receive(std::min<int64_t>(next + kFirst, kRecords));
  }
  ASSERT_EQ(next, kRecords);
  EXPECT_TRUE(waitUntil([&] {
    const Scrape now = scrape();
    return now.samples.contains(lag) && now[lag] == 0;
  }));
  const Scrape consumed = scrape();
  EXPECT_GT(consumed[requestCount("Fetch")], before[requestCount("Fetch")]);
  EXPECT_GT(consumed[requestCount("ListOffsets")], before[requestCount("ListOffsets")]);

  v1::SubscribeRequest close;
  close.set_close(true);
  ASSERT_TRUE(stream->Write(close));
  ASSERT_TRUE(stream->WritesDone());
  for (v1::SubscribeResponse response; stream->Read(&response);) {
  }
  EXPECT_TRUE(stream->Finish().ok());
  // The session closed: its series is gone.
  EXPECT_TRUE(waitUntil([&] { return !scrape().samples.contains(lag); }));
  expectConventions(consumed, {"kafka_sidecar_consumer_lag_records",
                               "kafka_sidecar_broker_request_latency_seconds"});
}

// A daemon of its own on three brokers, each the leader of one partition, so that every broker
// has exactly one connection: the producer's and the metadata's.
class BrokerMetricsTest : public MetricsTest {
 protected:
  static void SetUpTestSuite() {
    mock_ = new mock::MockCluster(3);
    mock_->createTopic(kTopic, 3);
    for (int partition = 0; partition < 3; ++partition) {
      EXPECT_EQ(mock_->execute("leader " + std::string(kTopic) + " " + std::to_string(partition) +
                               " " + std::to_string(partition + 1)),
                "ok");
    }
    startDaemon();
  }

  // One record to each partition.
  static grpc::Status produceToEach() {
    v1::ProduceRequest request;
    request.set_topic(kTopic);
    for (int partition = 0; partition < 3; ++partition) {
      addRecord(*request.mutable_records(), "k", "value")->set_partition(partition);
    }
    v1::ProduceResponse response;
    return producer_->Produce(callContext().get(), request, &response);
  }

  static constexpr const char* kTopic = "metrics-brokers";
};

TEST_F(BrokerMetricsTest, ConnectionsRequestsAndBufferPerBroker) {
  const Scrape before = scrape();
  ASSERT_TRUE(produceToEach().ok());
  Scrape now = scrape();
  for (const std::string broker : {"1", "2", "3"}) {
    EXPECT_EQ(now[brokerSeries("broker_connections", broker)], 1) << broker;
    EXPECT_GE(now[brokerSeries("broker_connects_total", broker)], 1) << broker;
    EXPECT_EQ(now[brokerSeries("broker_connect_failures_total", broker)], 0) << broker;
  }
  EXPECT_GT(now[requestCount("Metadata")], 0);
  EXPECT_GE(now[requestCount("Produce")] - before[requestCount("Produce")], 3);
  // Nothing holds a request at a broker: nothing stays in flight.
  EXPECT_TRUE(waitUntil([] {
    const Scrape later = scrape();
    for (const std::string broker : {"1", "2", "3"}) {
      if (later[brokerSeries("broker_requests_in_flight", broker)] != 0) return false;
    }
    return true;
  }));
  EXPECT_EQ(now[kBufferBytes], 0);

  // Slow brokers: the records are held while their Produce is answered, then released.
  ASSERT_EQ(mock_->execute("broker rtt -1 1000"), "ok");
  grpc::Status slow;
  std::thread producing([&] { slow = produceToEach(); });
  EXPECT_TRUE(waitUntil([] { return scrape()[kBufferBytes] > 0; }));
  producing.join();
  ASSERT_EQ(mock_->execute("broker rtt -1 0"), "ok");
  EXPECT_TRUE(slow.ok()) << slow.error_message();
  EXPECT_EQ(scrape()[kBufferBytes], 0);

  // Broker 3 goes down: its connection drops.
  ASSERT_EQ(mock_->execute("broker down 3"), "ok");
  EXPECT_TRUE(waitUntil([] {
    const Scrape later = scrape();
    return later[brokerSeries("broker_connections", "3")] == 0 &&
           later[brokerSeries("broker_disconnects_total", "3")] >= 1;
  }));
  ASSERT_EQ(mock_->execute("broker up 3"), "ok");
  now = scrape();
  EXPECT_EQ(now[brokerSeries("broker_connections", "1")], 1);
  expectConventions(
      now, {"kafka_sidecar_broker_connections", "kafka_sidecar_broker_connects_total",
            "kafka_sidecar_broker_disconnects_total", "kafka_sidecar_broker_connect_failures_total",
            "kafka_sidecar_broker_requests_in_flight",
            "kafka_sidecar_broker_request_latency_seconds", "kafka_sidecar_producer_buffer_bytes"});
}

}  // namespace
}  // namespace kafka::sidecar
