// Records produced through the sidecar, end to end: a Daemon in this process, in front of
// mock-cluster, takes them over gRPC (Producer.ProduceStream) with each codec, and kcat (-J, with
// CRC checks) and kafka-python read them back byte for byte: binary keys and values, empty and
// null keys, null values, headers in order with empty, binary and null values, explicit
// timestamps, and the sidecar's own timestamp where none is given. Our raw Fetch confirms that
// the batches on the broker carry the codec asked for.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <boost/algorithm/string/split.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "kafka/sidecar/v1/producer.grpc.pb.h"
#include "server/daemon.hpp"
#include "tests/integration/mock_cluster_process.hpp"
#include "tests/interop/direct_client.hpp"
#include "tests/interop/peer_process.hpp"
#include "tests/interop/peer_record.hpp"

namespace kafka::interop {
namespace {

namespace v1 = kafka::sidecar::v1;
using record::Compression;

constexpr char kTopic[] = "via-sidecar";
constexpr int kRecords = 300;
constexpr int kRecordsPerMessage = 100;

v1::Compression protoCodec(Compression codec) {
  switch (codec) {
    case Compression::kNone:
      return v1::COMPRESSION_NONE;
    case Compression::kGzip:
      return v1::COMPRESSION_GZIP;
    case Compression::kSnappy:
      return v1::COMPRESSION_SNAPPY;
    case Compression::kLz4:
      return v1::COMPRESSION_LZ4;
    case Compression::kZstd:
      return v1::COMPRESSION_ZSTD;
  }
  return v1::COMPRESSION_UNSPECIFIED;
}

// Whether record i is sent without a timestamp, for the sidecar to stamp.
bool stampedBySidecar(int i) {
  return i % 50 == 7;
}

// Every kind of key, value and header, and bytes that JSON and text formats must escape.
std::vector<PeerRecord> recordsToSend() {
  std::vector<PeerRecord> records;
  for (int i = 0; i < kRecords; ++i) {
    PeerRecord r;
    r.offset = i;
    r.timestamp = 1700000000000 + i * 7 - (i % 9 == 4 ? 60000 : 0);
    if (i % 10 == 1) {
      r.key = "";
    } else if (i % 10 != 0) {
      r.key = std::string("\x00k\xff\x80", 4) + std::to_string(i);
    }
    if (i % 17 == 3) {  // with i % 10 == 0 too (i = 20): both null
      r.value = std::nullopt;
    } else if (i % 17 == 5) {
      r.value = "";
    } else if (i % 17 == 9) {
      r.value = std::string("\"\\/\n\t\x7f\x01 \xc3\xa9 \xff\x00", 15) + filler(i);
    } else {
      r.value = std::string("\xff\x00v", 3) + filler(i) + std::string("\x01\xfe", 2);
    }
    if (i % 4 == 1) {
      r.headers = {{"trace", "t-" + std::to_string(i)}, {"empty", ""}, {"gone", std::nullopt}};
    } else if (i % 4 == 2) {
      r.headers = {{"bin", std::string("\x00\xff\x80,=", 5)}, {"dup", "1"}, {"dup", "2"}};
    } else if (i % 4 == 3) {
      r.headers = {{"gone", std::nullopt}};
    }
    records.push_back(std::move(r));
  }
  return records;
}

class SidecarProduceInteropTest : public integration::MockClusterTest,
                                  public ::testing::WithParamInterface<Compression> {
 protected:
  SidecarProduceInteropTest() : MockClusterTest({.brokers = 3, .topics = {{kTopic, 1}}}) {}

  void SetUp() override {
    MockClusterTest::SetUp();
    sidecar::DaemonConfig config;
    config.grpc_listen = "127.0.0.1:0";
    config.http_listen = {"127.0.0.1", 0};
    config.threads = 2;
    boost::algorithm::split(config.bootstrap_servers, bootstrap(), [](char c) { return c == ','; });
    daemon_ =
        std::make_unique<sidecar::Daemon>(std::move(config), sidecar::Daemon::Signals::kIgnore);
    daemon_->start();
    client_ = std::make_unique<DirectClient>(bootstrap());
  }

  // Connections close before the broker goes away.
  void TearDown() override {
    if (daemon_) {
      daemon_->requestStop();
      daemon_->wait();
      daemon_.reset();
    }
    client_.reset();
    MockClusterTest::TearDown();
  }

  // Streams `records` to partition 0 in messages of kRecordsPerMessage, ids = offsets, and
  // expects every record acked once, delivered at offset == id.
  void produce(const std::vector<PeerRecord>& records, Compression codec) {
    auto stub = v1::Producer::NewStub(
        grpc::CreateChannel(daemon_->grpcAddress(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto stream = stub->ProduceStream(&context);
    for (size_t start = 0; start < records.size(); start += kRecordsPerMessage) {
      v1::ProduceStreamRequest message;
      message.mutable_settings()->set_compression(protoCodec(codec));
      message.mutable_settings()->set_acks(v1::ACKS_ALL);
      message.set_topic(kTopic);
      for (size_t i = start; i < std::min(records.size(), start + kRecordsPerMessage); ++i) {
        const PeerRecord& r = records[i];
        v1::ProduceRecord* out = message.add_records();
        out->set_id(static_cast<uint64_t>(r.offset));
        out->set_partition(0);
        if (r.key) out->set_key(*r.key);
        if (r.value) out->set_value(*r.value);
        for (const auto& [name, value] : r.headers) {
          v1::RecordHeader* header = out->add_headers();
          header->set_key(name);
          if (value) header->set_value(*value);
        }
        if (!stampedBySidecar(static_cast<int>(i))) out->set_timestamp_ms(r.timestamp);
      }
      ASSERT_TRUE(stream->Write(message)) << "the stream broke at record " << start;
    }
    ASSERT_TRUE(stream->WritesDone());

    std::map<uint64_t, int64_t> offsets;  // id -> offset
    v1::ProduceStreamResponse response;
    while (stream->Read(&response)) {
      for (const v1::ProduceAck& ack : response.acks()) {
        EXPECT_FALSE(ack.has_error()) << ack.error().name() << ": " << ack.error().message();
        EXPECT_EQ(ack.topic(), kTopic);
        EXPECT_EQ(ack.partition(), 0);
        for (int j = 0; j < ack.ids_size(); ++j) {
          EXPECT_TRUE(offsets.emplace(ack.ids(j), ack.base_offset() + j).second)
              << "id " << ack.ids(j) << " acked twice";
        }
      }
    }
    grpc::Status status = stream->Finish();
    ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
    ASSERT_EQ(offsets.size(), records.size());
    for (const auto& [id, offset] : offsets) EXPECT_EQ(offset, static_cast<int64_t>(id));
  }

  std::unique_ptr<sidecar::Daemon> daemon_;
  std::unique_ptr<DirectClient> client_;
};

TEST_P(SidecarProduceInteropTest, PeersReadBackWhatWasProduced) {
  const Compression codec = GetParam();
  std::vector<PeerRecord> expected = recordsToSend();
  const int64_t before = nowMs();
  ASSERT_NO_FATAL_FAILURE(produce(expected, codec));
  const int64_t after = nowMs();

  std::set<Compression> codecs;
  std::vector<PeerRecord> fetched = client_->fetchRecords(kTopic, kRecords, codecs);
  EXPECT_EQ(codecs, std::set<Compression>{codec});
  ASSERT_EQ(fetched.size(), expected.size());
  for (int i = 0; i < kRecords; ++i) {
    if (!stampedBySidecar(i)) continue;
    EXPECT_GE(fetched[i].timestamp, before) << "record " << i;
    EXPECT_LE(fetched[i].timestamp, after) << "record " << i;
    expected[i].timestamp = fetched[i].timestamp;
  }
  EXPECT_EQ(fetched, expected);

  PeerRun kcat = runPeer({"kcat", "-b", bootstrap(), "-C", "-t", kTopic, "-p", "0", "-o",
                          "beginning", "-e", "-q", "-J", "-X", "check.crcs=true"});
  ASSERT_TRUE(kcat.ok()) << kcat.describe();
  EXPECT_EQ(kcat.err.find("CRC"), std::string::npos) << kcat.err;
  EXPECT_EQ(fromKcatJson(kcat.out), expected);

  PeerRun python = runPeer(
      {"/usr/bin/python3", kPythonPeer, "consume", bootstrap(), kTopic, std::to_string(kRecords)});
  ASSERT_TRUE(python.ok()) << python.describe();
  EXPECT_EQ(fromLines(python.out), expected);
}

INSTANTIATE_TEST_SUITE_P(Codecs, SidecarProduceInteropTest, ::testing::ValuesIn(kCodecs),
                         [](const auto& param_info) { return codecName(param_info.param); });

}  // namespace
}  // namespace kafka::interop
