// The Producer service: record conversion on its own, then Produce and ProduceStream end to end
// against a Daemon running in this process with an embedded mock cluster (topic "demo", 3
// partitions).
#include "server/producer_service.hpp"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "client_core/producer/partitioner.hpp"
#include "server/daemon.hpp"
#include "tests/server/test_support.hpp"

namespace kafka::sidecar {
namespace {

using testing::kWait;

constexpr int kDemoPartitions = 3;

std::string text(const std::optional<protocol::ByteView>& bytes) {
  if (!bytes) return "<null>";
  return {reinterpret_cast<const char*>(bytes->data()), bytes->size()};
}

v1::ProduceRecord* addRecord(google::protobuf::RepeatedPtrField<v1::ProduceRecord>& records,
                             std::optional<std::string> key, std::optional<std::string> value) {
  v1::ProduceRecord* record = records.Add();
  if (key) record->set_key(*key);
  if (value) record->set_value(*value);
  return record;
}

TEST(ConvertRecordsTest, ViewsIntoTheRequest) {
  v1::ProduceRequest request;
  auto& records = *request.mutable_records();
  v1::ProduceRecord* first = addRecord(records, "k", "v");
  first->set_partition(2);
  first->set_timestamp_ms(1700000000000);
  v1::RecordHeader* header = first->add_headers();
  header->set_key("trace");
  header->set_value("abc");
  first->add_headers()->set_key("flag");  // a null value
  v1::ProduceRecord* second = addRecord(records, "", std::nullopt);
  second->set_topic("other");
  second->add_headers()->set_key("h");

  ConvertedRecords out;
  convertRecords(records, "demo", out);
  ASSERT_TRUE(out.rejected.empty());
  ASSERT_EQ(out.records.size(), 2u);
  EXPECT_EQ(out.positions, (std::vector<uint32_t>{0, 1}));

  const producer::OutgoingRecord& a = out.records[0];
  EXPECT_EQ(a.topic, "demo");
  EXPECT_EQ(a.partition, 2);
  EXPECT_EQ(text(a.key), "k");
  EXPECT_EQ(text(a.value), "v");
  EXPECT_EQ(a.timestamp_ms, 1700000000000);
  ASSERT_EQ(a.headers.size(), 2u);
  EXPECT_EQ(a.headers[0].key, "trace");
  EXPECT_EQ(text(a.headers[0].value), "abc");
  EXPECT_EQ(a.headers[1].key, "flag");
  EXPECT_FALSE(a.headers[1].value);
  // Views, not copies: the producer reads the request's own bytes.
  EXPECT_EQ(static_cast<const void*>(a.value->data()),
            static_cast<const void*>(first->value().data()));

  const producer::OutgoingRecord& b = out.records[1];
  EXPECT_EQ(b.topic, "other");
  EXPECT_EQ(b.partition, producer::kAnyPartition);
  EXPECT_EQ(text(b.key), "");  // empty, which is not null
  EXPECT_FALSE(b.value);
  EXPECT_EQ(b.timestamp_ms, record::kNoTimestamp);
  ASSERT_EQ(b.headers.size(), 1u);
  EXPECT_EQ(b.headers[0].key, "h");
}

TEST(ConvertRecordsTest, RejectionsNameRecordAndField) {
  v1::ProduceRequest request;
  auto& records = *request.mutable_records();
  addRecord(records, std::nullopt, "fine")->set_topic("demo");
  addRecord(records, std::nullopt, "no topic");
  v1::ProduceRecord* headers = addRecord(records, std::nullopt, "bad header");
  headers->set_topic("demo");
  headers->add_headers()->set_key("ok");
  headers->add_headers()->set_key("");
  v1::ProduceRecord* partition = addRecord(records, std::nullopt, "bad partition");
  partition->set_topic("demo");
  partition->set_partition(-1);
  v1::ProduceRecord* timestamp = addRecord(records, std::nullopt, "bad timestamp");
  timestamp->set_topic("demo");
  timestamp->set_timestamp_ms(-5);
  addRecord(records, std::nullopt, "fine too")->set_topic("demo");

  ConvertedRecords out;
  convertRecords(records, "", out);
  EXPECT_EQ(out.positions, (std::vector<uint32_t>{0, 5}));
  ASSERT_EQ(out.records.size(), 2u);
  EXPECT_EQ(text(out.records[1].value), "fine too");
  ASSERT_EQ(out.rejected.size(), 4u);

  EXPECT_EQ(out.rejected[0].position, 1u);
  EXPECT_EQ(out.rejected[0].error.code, ErrorCode::kInvalidTopicException);
  EXPECT_EQ(out.rejected[0].error.message, "record 1 has no topic and the request names none");
  EXPECT_EQ(out.rejected[1].position, 2u);
  EXPECT_EQ(out.rejected[1].topic, "demo");
  EXPECT_EQ(out.rejected[1].error.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(out.rejected[1].error.message, "record 2 header 1 has an empty key");
  EXPECT_EQ(out.rejected[2].position, 3u);
  EXPECT_EQ(out.rejected[2].error.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(out.rejected[2].error.message.find("record 3 has partition -1"), std::string::npos);
  EXPECT_EQ(out.rejected[3].position, 4u);
  EXPECT_NE(out.rejected[3].error.message.find("record 4 has timestamp_ms -5"), std::string::npos);
}

TEST(OverridesTest, EnumValues) {
  v1::ProducerSettings settings;
  ProducerOverrides overrides;
  ASSERT_TRUE(overridesOf(settings, overrides).ok());
  EXPECT_FALSE(overrides.acks);
  EXPECT_FALSE(overrides.compression);

  settings.set_acks(v1::ACKS_NONE);
  settings.set_compression(v1::COMPRESSION_LZ4);
  ASSERT_TRUE(overridesOf(settings, overrides).ok());
  EXPECT_EQ(overrides.acks, producer::Acks::kNone);
  EXPECT_EQ(overrides.compression, record::Compression::kLz4);

  settings.set_acks(static_cast<v1::Acks>(9));
  grpc::Status status = overridesOf(settings, overrides);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("settings.acks"), std::string::npos);
  settings.set_acks(v1::ACKS_ALL);
  settings.set_compression(static_cast<v1::Compression>(-3));
  status = overridesOf(settings, overrides);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("settings.compression"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// End to end.

using Stream = grpc::ClientReaderWriter<v1::ProduceStreamRequest, v1::ProduceStreamResponse>;

class ProducerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DaemonConfig config;
    config.grpc_listen = "127.0.0.1:0";
    config.http_listen = {"127.0.0.1", 0};
    config.threads = 2;
    config.embedded_brokers = 1;
    config.producer.linger = std::chrono::milliseconds(1);
    configure(config);
    daemon_ = std::make_unique<Daemon>(std::move(config), Daemon::Signals::kIgnore);
    daemon_->start();
    stub_ = v1::Producer::NewStub(
        grpc::CreateChannel(daemon_->grpcAddress(), grpc::InsecureChannelCredentials()));
  }

  virtual void configure(DaemonConfig& /*config*/) {}

  void TearDown() override {
    if (!daemon_) return;
    auto started = std::chrono::steady_clock::now();
    stopDaemon();
    EXPECT_LT(std::chrono::steady_clock::now() - started, Daemon::kGrpcGrace);
  }

  void stopDaemon() {
    daemon_->requestStop();
    daemon_->wait();
    daemon_.reset();
  }

  static std::unique_ptr<grpc::ClientContext> callContext() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + kWait);
    return context;
  }

  grpc::Status produce(const v1::ProduceRequest& request, v1::ProduceResponse& response) {
    return stub_->Produce(callContext().get(), request, &response);
  }

  // Reads acks until the server ends the stream; returns its status.
  static grpc::Status readToEnd(Stream& stream, std::vector<v1::ProduceAck>& acks) {
    v1::ProduceStreamResponse response;
    while (stream.Read(&response)) {
      for (const v1::ProduceAck& ack : response.acks()) acks.push_back(ack);
    }
    return stream.Finish();
  }

  // A stream of one message and the half-close; returns how it ended.
  grpc::Status streamOneMessage(const v1::ProduceStreamRequest& message,
                                std::vector<v1::ProduceAck>& acks) {
    auto context = callContext();
    std::unique_ptr<Stream> stream = stub_->ProduceStream(context.get());
    stream->Write(message);
    stream->WritesDone();
    return readToEnd(*stream, acks);
  }

  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<v1::Producer::Stub> stub_;
};

TEST_F(ProducerServiceTest, ProduceDeliversEveryRecordInOrderPerPartition) {
  v1::ProduceRequest request;
  request.set_topic("demo");
  auto& records = *request.mutable_records();
  v1::ProduceRecord* with_headers = addRecord(records, "user-1", "created");
  v1::RecordHeader* header = with_headers->add_headers();
  header->set_key("trace-id");
  header->set_value("t1");
  with_headers->add_headers()->set_key("null-valued");
  addRecord(records, "user-1", std::nullopt);  // a tombstone
  addRecord(records, std::nullopt, "to 2")->set_partition(2);
  addRecord(records, "user-2", "x");
  addRecord(records, std::nullopt, "to 2 again")->set_partition(2);
  addRecord(records, "user-1", "updated");
  addRecord(records, std::nullopt, "to 0")->set_partition(0);
  addRecord(records, std::nullopt, "sticky");

  v1::ProduceResponse response;
  grpc::Status status = produce(request, response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), records.size());

  std::map<int32_t, int64_t> last_offset;
  for (int i = 0; i < response.results_size(); ++i) {
    const v1::ProduceResult& result = response.results(i);
    SCOPED_TRACE("record " + std::to_string(i));
    EXPECT_FALSE(result.has_error()) << result.error().message();
    ASSERT_GE(result.partition(), 0);
    ASSERT_LT(result.partition(), kDemoPartitions);
    EXPECT_GE(result.offset(), 0);
    if (auto last = last_offset.find(result.partition()); last != last_offset.end()) {
      EXPECT_GT(result.offset(), last->second);
    }
    last_offset[result.partition()] = result.offset();
  }
  // Explicit partitions are kept; a key always lands where Kafka's clients would put it.
  EXPECT_EQ(response.results(2).partition(), 2);
  EXPECT_EQ(response.results(4).partition(), 2);
  EXPECT_EQ(response.results(6).partition(), 0);
  const std::string key = "user-1";
  int32_t user1 = producer::partitionForKey(
      {reinterpret_cast<const uint8_t*>(key.data()), key.size()}, kDemoPartitions);
  for (int i : {0, 1, 5}) EXPECT_EQ(response.results(i).partition(), user1) << i;

  // A second request continues each partition's offsets.
  v1::ProduceRequest again;
  again.set_topic("demo");
  addRecord(*again.mutable_records(), std::nullopt, "later")->set_partition(2);
  v1::ProduceResponse later;
  ASSERT_TRUE(produce(again, later).ok());
  ASSERT_EQ(later.results_size(), 1);
  EXPECT_FALSE(later.results(0).has_error());
  EXPECT_EQ(later.results(0).partition(), 2);
  EXPECT_GT(later.results(0).offset(), last_offset[2]);
}

TEST_F(ProducerServiceTest, PerRecordErrorsLeaveTheOtherRecordsDelivered) {
  v1::ProduceRequest request;  // no default topic
  auto& records = *request.mutable_records();
  addRecord(records, std::nullopt, "ok")->set_topic("demo");
  v1::ProduceRecord* out_of_range = addRecord(records, std::nullopt, "p99");
  out_of_range->set_topic("demo");
  out_of_range->set_partition(99);
  addRecord(records, std::nullopt, "bad name")->set_topic("bad/name");
  v1::ProduceRecord* empty_header = addRecord(records, std::nullopt, "empty header key");
  empty_header->set_topic("demo");
  empty_header->add_headers()->set_key("");
  addRecord(records, std::nullopt, "no topic");
  addRecord(records, "k", "ok too")->set_topic("demo");

  v1::ProduceResponse response;
  grpc::Status status = produce(request, response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), 6);

  for (int delivered : {0, 5}) {
    const v1::ProduceResult& result = response.results(delivered);
    EXPECT_FALSE(result.has_error()) << delivered << ": " << result.error().message();
    EXPECT_GE(result.partition(), 0);
    EXPECT_GE(result.offset(), 0);
  }
  struct Expected {
    int index;
    int32_t code;
    std::string name;
    std::string in_message;
    int32_t partition;  // the one asked for, or -1
  };
  const Expected failures[] = {
      {1, 3, "UNKNOWN_TOPIC_OR_PARTITION", "partition 99", 99},
      {2, 17, "INVALID_TOPIC_EXCEPTION", "bad/name", -1},
      {3, -104, "INVALID_ARGUMENT", "record 3 header 0 has an empty key", -1},
      {4, 17, "INVALID_TOPIC_EXCEPTION", "record 4 has no topic and the request names none", -1},
  };
  for (const Expected& expected : failures) {
    const v1::ProduceResult& result = response.results(expected.index);
    SCOPED_TRACE("record " + std::to_string(expected.index));
    ASSERT_TRUE(result.has_error());
    EXPECT_EQ(result.error().code(), expected.code);
    EXPECT_EQ(result.error().name(), expected.name);
    EXPECT_NE(result.error().message().find(expected.in_message), std::string::npos)
        << result.error().message();
    EXPECT_EQ(result.partition(), expected.partition);
    EXPECT_EQ(result.offset(), -1);
  }
}

TEST_F(ProducerServiceTest, SettingsChooseAcksAndCompression) {
  for (v1::Compression codec : {v1::COMPRESSION_NONE, v1::COMPRESSION_GZIP, v1::COMPRESSION_SNAPPY,
                                v1::COMPRESSION_LZ4, v1::COMPRESSION_ZSTD}) {
    SCOPED_TRACE(v1::Compression_Name(codec));
    v1::ProduceRequest request;
    request.set_topic("demo");
    request.mutable_settings()->set_compression(codec);
    request.mutable_settings()->set_acks(v1::ACKS_LEADER);
    for (int i = 0; i < 10; ++i)
      addRecord(*request.mutable_records(), "key", std::string(200, 'a'));
    v1::ProduceResponse response;
    grpc::Status status = produce(request, response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.results_size(), 10);
    for (const v1::ProduceResult& result : response.results()) {
      EXPECT_FALSE(result.has_error()) << result.error().message();
      EXPECT_GE(result.offset(), 0);
    }
  }

  // acks=NONE: no answer from the broker, so delivered records have no offset.
  v1::ProduceRequest request;
  request.set_topic("demo");
  request.mutable_settings()->set_acks(v1::ACKS_NONE);
  addRecord(*request.mutable_records(), std::nullopt, "fire and forget")->set_partition(1);
  v1::ProduceResponse response;
  ASSERT_TRUE(produce(request, response).ok());
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_FALSE(response.results(0).has_error()) << response.results(0).error().message();
  EXPECT_EQ(response.results(0).partition(), 1);
  EXPECT_EQ(response.results(0).offset(), -1);
}

TEST_F(ProducerServiceTest, WholeRequestFailures) {
  v1::ProduceRequest request;
  request.set_topic("demo");
  addRecord(*request.mutable_records(), std::nullopt, "v");
  request.set_cluster("nope");
  v1::ProduceResponse response;
  grpc::Status status = produce(request, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "unknown cluster 'nope'; configured: 'default'");

  request.set_cluster("default");
  request.mutable_settings()->set_acks(static_cast<v1::Acks>(7));
  status = produce(request, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("settings.acks"), std::string::npos)
      << status.error_message();

  // An empty request is answered at once.
  v1::ProduceRequest empty;
  status = produce(empty, response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.results_size(), 0);
}

// Several messages, ids from the application: every id is acked exactly once, with offsets that
// are distinct per partition, and the stream ends OK after the half-close.
TEST_F(ProducerServiceTest, ProduceStreamAcksEveryIdOnce) {
  auto context = callContext();
  std::unique_ptr<Stream> stream = stub_->ProduceStream(context.get());
  constexpr int kMessages = 5;
  constexpr int kPerMessage = 40;
  std::set<uint64_t> sent;
  uint64_t bad_id = 0;
  for (int m = 0; m < kMessages; ++m) {
    v1::ProduceStreamRequest message;
    if (m == 0) message.mutable_settings()->set_compression(v1::COMPRESSION_LZ4);
    message.set_topic("demo");
    for (int i = 0; i < kPerMessage; ++i) {
      v1::ProduceRecord* record =
          addRecord(*message.mutable_records(), "key-" + std::to_string(i % 7), "value");
      record->set_id(1000 + static_cast<uint64_t>(m * kPerMessage + i));
      sent.insert(record->id());
    }
    if (m == 2) {
      message.mutable_records(5)->add_headers()->set_key("");
      bad_id = message.records(5).id();
    }
    ASSERT_TRUE(stream->Write(message));
  }
  ASSERT_TRUE(stream->WritesDone());

  std::vector<v1::ProduceAck> acks;
  grpc::Status status = readToEnd(*stream, acks);
  ASSERT_TRUE(status.ok()) << status.error_message();

  std::multiset<uint64_t> acked;
  std::set<std::pair<int32_t, int64_t>> positions;
  for (const v1::ProduceAck& ack : acks) {
    acked.insert(ack.ids().begin(), ack.ids().end());
    EXPECT_EQ(ack.topic(), "demo");
    if (ack.ids_size() == 1 && ack.ids(0) == bad_id) {
      ASSERT_TRUE(ack.has_error());
      EXPECT_EQ(ack.error().name(), "INVALID_ARGUMENT");
      EXPECT_EQ(ack.partition(), -1);
      continue;
    }
    EXPECT_FALSE(ack.has_error()) << ack.error().message();
    ASSERT_GE(ack.partition(), 0);
    ASSERT_GE(ack.base_offset(), 0);
    for (int k = 0; k < ack.ids_size(); ++k) {
      EXPECT_TRUE(positions.emplace(ack.partition(), ack.base_offset() + k).second)
          << "offset used twice";
    }
  }
  EXPECT_EQ(acked, std::multiset<uint64_t>(sent.begin(), sent.end()));
  EXPECT_EQ(positions.size(), sent.size() - 1);
}

TEST_F(ProducerServiceTest, ProduceStreamHalfCloseWithoutRecords) {
  auto context = callContext();
  std::unique_ptr<Stream> stream = stub_->ProduceStream(context.get());
  ASSERT_TRUE(stream->WritesDone());
  std::vector<v1::ProduceAck> acks;
  grpc::Status status = readToEnd(*stream, acks);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(acks.empty());

  v1::ProduceStreamRequest empty;  // a message without records
  empty.set_topic("demo");
  status = streamOneMessage(empty, acks);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(acks.empty());
}

// A later message that changes the settings ends the stream; the records sent before still get
// their acks, and those of the offending message are not sent.
TEST_F(ProducerServiceTest, ProduceStreamSettingsChangeIsInvalidArgument) {
  auto context = callContext();
  std::unique_ptr<Stream> stream = stub_->ProduceStream(context.get());
  v1::ProduceStreamRequest first;
  first.mutable_settings()->set_acks(v1::ACKS_LEADER);
  first.set_topic("demo");
  for (uint64_t id : {1, 2, 3}) addRecord(*first.mutable_records(), "k", "v")->set_id(id);
  ASSERT_TRUE(stream->Write(first));

  v1::ProduceStreamRequest same;  // repeating the cluster, or leaving settings unset, is fine
  same.set_cluster("default");
  same.set_topic("demo");
  addRecord(*same.mutable_records(), "k", "v")->set_id(4);
  ASSERT_TRUE(stream->Write(same));

  v1::ProduceStreamRequest changed;
  changed.mutable_settings()->set_acks(v1::ACKS_NONE);
  changed.set_topic("demo");
  addRecord(*changed.mutable_records(), "k", "v")->set_id(5);
  stream->Write(changed);
  stream->WritesDone();

  std::vector<v1::ProduceAck> acks;
  grpc::Status status = readToEnd(*stream, acks);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("settings.acks changed from ACKS_LEADER to ACKS_NONE"),
            std::string::npos)
      << status.error_message();
  std::multiset<uint64_t> acked;
  for (const v1::ProduceAck& ack : acks) {
    EXPECT_FALSE(ack.has_error()) << ack.error().message();
    acked.insert(ack.ids().begin(), ack.ids().end());
  }
  EXPECT_EQ(acked, (std::multiset<uint64_t>{1, 2, 3, 4}));
}

TEST_F(ProducerServiceTest, ProduceStreamFirstMessageFailures) {
  v1::ProduceStreamRequest unknown_cluster;
  unknown_cluster.set_cluster("nope");
  addRecord(*unknown_cluster.mutable_records(), "k", "v")->set_topic("demo");
  std::vector<v1::ProduceAck> acks;
  grpc::Status status = streamOneMessage(unknown_cluster, acks);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("'nope'"), std::string::npos);
  EXPECT_TRUE(acks.empty());

  v1::ProduceStreamRequest bad_codec;
  bad_codec.mutable_settings()->set_compression(static_cast<v1::Compression>(99));
  status = streamOneMessage(bad_codec, acks);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("settings.compression"), std::string::npos);
  EXPECT_TRUE(acks.empty());
}

// Cancelled calls leave the daemon serving, whatever their records were doing.
TEST_F(ProducerServiceTest, CancelledCallsLeaveTheServiceWorking) {
  for (int round = 0; round < 3; ++round) {
    grpc::ClientContext context;
    std::unique_ptr<Stream> stream = stub_->ProduceStream(&context);
    for (int m = 0; m < 3; ++m) {
      v1::ProduceStreamRequest message;
      message.set_topic("demo");
      for (int i = 0; i < 200; ++i) addRecord(*message.mutable_records(), "k", "v")->set_id(i);
      stream->Write(message);
    }
    context.TryCancel();
    std::vector<v1::ProduceAck> acks;
    EXPECT_EQ(readToEnd(*stream, acks).error_code(), grpc::StatusCode::CANCELLED);

    // A unary call whose deadline passes while its records are in the producer.
    grpc::ClientContext hurried;
    hurried.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(1));
    v1::ProduceRequest request;
    request.set_topic("demo");
    for (int i = 0; i < 200; ++i) addRecord(*request.mutable_records(), "k", "v");
    v1::ProduceResponse ignored;
    stub_->Produce(&hurried, request, &ignored);
  }

  v1::ProduceRequest request;
  request.set_topic("demo");
  addRecord(*request.mutable_records(), "k", "still works");
  v1::ProduceResponse response;
  grpc::Status status = produce(request, response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_FALSE(response.results(0).has_error());
}

// Stopping the daemon ends an open, idle stream at once with UNAVAILABLE, after its acks.
TEST_F(ProducerServiceTest, StopEndsOpenStreams) {
  auto context = callContext();
  std::unique_ptr<Stream> stream = stub_->ProduceStream(context.get());
  v1::ProduceStreamRequest message;
  message.set_topic("demo");
  for (uint64_t id : {7, 8}) addRecord(*message.mutable_records(), "k", "v")->set_id(id);
  ASSERT_TRUE(stream->Write(message));
  std::multiset<uint64_t> acked;
  v1::ProduceStreamResponse response;
  while (acked.size() < 2 && stream->Read(&response)) {
    for (const v1::ProduceAck& ack : response.acks())
      acked.insert(ack.ids().begin(), ack.ids().end());
  }
  EXPECT_EQ(acked, (std::multiset<uint64_t>{7, 8}));

  auto started = std::chrono::steady_clock::now();
  std::thread stopper([this] { stopDaemon(); });
  std::vector<v1::ProduceAck> rest;
  grpc::Status status = readToEnd(*stream, rest);
  stopper.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_TRUE(rest.empty());
  EXPECT_LT(std::chrono::steady_clock::now() - started, Daemon::kGrpcGrace);
}

class LingeringProducerServiceTest : public ProducerServiceTest {
 protected:
  void configure(DaemonConfig& config) override {
    config.producer.linger = std::chrono::seconds(30);
  }
};

// Records that would linger for 30 s are sent at once when the daemon stops, and the call that
// holds them is answered with their offsets.
TEST_F(LingeringProducerServiceTest, StopSendsLingeringRecordsAndAnswers) {
  v1::ProduceRequest request;
  request.set_topic("demo");
  for (int i = 0; i < 5; ++i) addRecord(*request.mutable_records(), "k" + std::to_string(i), "v");
  v1::ProduceResponse response;
  grpc::Status status;
  std::thread call([&] { status = produce(request, response); });
  EXPECT_TRUE(testing::waitUntil([&] { return daemon_->producersForTest().bufferedBytes() > 0; }));

  auto started = std::chrono::steady_clock::now();
  stopDaemon();
  call.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, Daemon::kGrpcGrace);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), 5);
  for (const v1::ProduceResult& result : response.results()) {
    EXPECT_FALSE(result.has_error()) << result.error().message();
    EXPECT_GE(result.offset(), 0);
  }
}

}  // namespace
}  // namespace kafka::sidecar
