// Golden frames: bytes that other Kafka implementations put on the wire (requests of kcat and
// kafka-python, responses of librdkafka's mock broker), captured by tests/golden/capture.py and
// listed in tests/golden/MANIFEST.txt. Each must decode with our definitions and re-encode to the
// very same bytes, which checks field order, types, versions and nullability against
// implementations we did not write.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "client_core/protocol/dispatch.hpp"
#include "tests/unit/golden_frames.hpp"

namespace kafka::protocol {
namespace {

using testing::GoldenFrame;
using testing::decodeRequest;
using testing::decodeResponse;
using testing::golden;
using testing::goldenFile;
using testing::kGoldenDir;

// Where two frames first differ, to point at the field that broke.
std::string firstDifference(const Bytes& expected, const Bytes& actual) {
  auto [e, a] = std::mismatch(expected.begin(), expected.end(), actual.begin(), actual.end());
  std::ostringstream out;
  out << "sizes " << expected.size() << " vs " << actual.size() << ", first difference at offset "
      << (e - expected.begin());
  return out.str();
}

// Re-encodes a request with the header as decoded (unknown header tags included).
template <ApiDefinition A>
Bytes reencodeRequest(const GoldenFrame& f) {
  RequestHeader header;
  typename A::Request request = decodeRequest<A>(f, &header);
  const bool flexible = isFlexible<A>(f.version);
  Bytes out;
  Writer w(out);
  w.int32(0);
  encodeRequestHeader(w, header, requestHeaderVersion(A::kKey, flexible));
  encodeMessage(w, request, SchemaContext{f.version, flexible});
  w.patchInt32(0, static_cast<int32_t>(out.size() - 4));
  return out;
}

template <ApiDefinition A>
Bytes reencodeResponse(const GoldenFrame& f) {
  const bool flexible = isFlexible<A>(f.version);
  Reader r(f.body());
  auto header = decodeResponseHeader(r, responseHeaderVersion(A::kKey, flexible));
  EXPECT_TRUE(header.ok()) << f.file << ": " << header.error().toString();
  typename A::Response response = decodeResponse<A>(f);
  Bytes out;
  Writer w(out);
  w.int32(0);
  if (header) encodeResponseHeader(w, *header, responseHeaderVersion(A::kKey, flexible));
  encodeMessage(w, response, SchemaContext{f.version, flexible});
  w.patchInt32(0, static_cast<int32_t>(out.size() - 4));
  return out;
}

std::string text(ByteView bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// RecordBatch v2: magic at offset 16, the record count at 57. Records are uncompressed.
void expectBatchOfTwoRecords(const std::optional<Records>& records, const std::string& what) {
  ASSERT_TRUE(records.has_value()) << what;
  ByteView data = records->data;
  ASSERT_GE(data.size(), 61u) << what;
  EXPECT_EQ(data[16], 2) << what << ": RecordBatch magic";
  Reader count(data.subspan(57, 4));
  EXPECT_EQ(count.int32(), 2) << what << ": record count";
  EXPECT_NE(text(data).find("value-1"), std::string::npos) << what;
  EXPECT_NE(text(data).find("value-2"), std::string::npos) << what;
}

TEST(GoldenTest, ManifestCoversEveryPeerAndTheCoreApis) {
  ASSERT_FALSE(golden().empty()) << "no frames in " << kGoldenDir << "MANIFEST.txt";
  std::set<std::tuple<std::string, int16_t, bool>> seen;
  for (const GoldenFrame& f : golden()) {
    EXPECT_GE(f.bytes.size(), 8u) << f.file;
    Reader length(f.bytes);
    EXPECT_EQ(static_cast<size_t>(length.int32()), f.bytes.size() - 4) << f.file;
    seen.insert({f.producer, f.api_key, f.request});
  }
  for (ApiKey key : {ApiKey::kApiVersions, ApiKey::kMetadata, ApiKey::kProduce, ApiKey::kFetch}) {
    auto k = static_cast<int16_t>(key);
    EXPECT_TRUE(seen.contains({"kcat", k, true})) << apiName(key);
    EXPECT_TRUE(seen.contains({"kafka-python", k, true})) << apiName(key);
    EXPECT_TRUE(seen.contains({"mock", k, false})) << apiName(key);
  }
}

TEST(GoldenTest, EveryFrameReencodesByteForByte) {
  size_t checked = 0;
  for (const GoldenFrame& f : golden()) {
    if (f.reject) continue;
    SCOPED_TRACE(f.file);
    ++checked;
    auto key = static_cast<ApiKey>(f.api_key);
    Result<void> dispatched = f.request ? decodeRequestByKey(key, f.version, f.body())
                                        : decodeResponseByKey(key, f.version, f.body());
    EXPECT_TRUE(dispatched.ok()) << dispatched.error().toString();
    Result<void> reencoded = withApi(key, f.version, [&]<class A>() -> Result<void> {
      Bytes again = f.request ? reencodeRequest<A>(f) : reencodeResponse<A>(f);
      EXPECT_EQ(again, f.bytes) << firstDifference(f.bytes, again);
      return {};
    });
    EXPECT_TRUE(reencoded.ok()) << reencoded.error().toString();
  }
  EXPECT_GE(checked, 40u);
}

TEST(GoldenTest, MalformedPeerFramesAreRejected) {
  int rejected = 0;
  for (const GoldenFrame& f : golden()) {
    if (!f.reject) continue;
    SCOPED_TRACE(f.file);
    ++rejected;
    auto key = static_cast<ApiKey>(f.api_key);
    EXPECT_FALSE(decodeResponseByKey(key, f.version, f.body()).ok());
    EXPECT_FALSE(decodeResponseByKey(key, f.answers, f.body()).ok());
  }
  // The mock's ApiVersions answer to a v3 request (see MANIFEST.txt); our connection falls back
  // to v0 when it cannot read it.
  EXPECT_EQ(rejected, 1);
}

TEST(GoldenTest, RequestsCarryTheClientIdsOfTheirPeers) {
  for (const GoldenFrame& f : golden()) {
    if (!f.request) continue;
    SCOPED_TRACE(f.file);
    Reader r(f.body());
    Result<void> checked =
        withApi(static_cast<ApiKey>(f.api_key), f.version, [&]<class A>() -> Result<void> {
          auto header =
              decodeRequestHeader(r, requestHeaderVersion(A::kKey, isFlexible<A>(f.version)));
          if (!header) return header.error();
          EXPECT_EQ(header->api_key, A::kKey);
          EXPECT_EQ(header->api_version, f.version);
          EXPECT_EQ(header->client_id, "golden-" + f.producer);
          return {};
        });
    EXPECT_TRUE(checked.ok()) << checked.error().toString();
  }
}

TEST(GoldenTest, KcatApiVersionsV3NamesItsSoftware) {
  auto request = decodeRequest<ApiVersionsApi>(goldenFile("kcat_api_versions_request_v3.hex"));
  EXPECT_EQ(request.client_software_name, "librdkafka");
  EXPECT_FALSE(request.client_software_version.empty());
}

TEST(GoldenTest, MockApiVersionsListsTheVersionsItServes) {
  auto response = decodeResponse<ApiVersionsApi>(goldenFile("mock_api_versions_response_v0.hex"));
  EXPECT_EQ(response.error_code, 0);
  auto metadata = std::find_if(response.api_keys.begin(), response.api_keys.end(),
                               [](const auto& k) { return k.api_key == 3; });
  ASSERT_NE(metadata, response.api_keys.end());
  EXPECT_EQ(metadata->min_version, 0);
  EXPECT_EQ(metadata->max_version, 2);
}

TEST(GoldenTest, MetadataRequestsNameTheTopic) {
  for (const char* file :
       {"kcat_metadata_request_v2.hex", "kafka_python_metadata_request_v1.hex"}) {
    auto request = decodeRequest<MetadataApi>(goldenFile(file));
    ASSERT_TRUE(request.topics.has_value()) << file;
    ASSERT_EQ(request.topics->size(), 1u) << file;
    EXPECT_EQ(request.topics->front().name, "golden") << file;
  }
}

TEST(GoldenTest, MockMetadataDescribesTheBrokerAndTopic) {
  auto response = decodeResponse<MetadataApi>(goldenFile("mock_metadata_response_v2.hex"));
  ASSERT_EQ(response.brokers.size(), 1u);
  EXPECT_EQ(response.brokers[0].node_id, 1);
  EXPECT_EQ(response.brokers[0].host, "127.0.0.1");
  EXPECT_GT(response.brokers[0].port, 0);
  ASSERT_TRUE(response.cluster_id.has_value());
  EXPECT_FALSE(response.cluster_id->empty());
  EXPECT_FALSE(response.brokers[0].rack.has_value());
  ASSERT_EQ(response.topics.size(), 1u);
  EXPECT_EQ(response.topics[0].name, "golden");
  EXPECT_EQ(response.topics[0].error_code, 0);
  ASSERT_EQ(response.topics[0].partitions.size(), 1u);
  EXPECT_EQ(response.topics[0].partitions[0].leader_id, 1);
  EXPECT_EQ(response.topics[0].partitions[0].replica_nodes, std::vector<int32_t>{1});
}

TEST(GoldenTest, ProduceRequestsCarryOneBatchOfTheFixedRecords) {
  for (const char* file : {"kcat_produce_request_v7.hex", "kafka_python_produce_request_v7.hex"}) {
    auto request = decodeRequest<ProduceApi>(goldenFile(file));
    EXPECT_FALSE(request.transactional_id.has_value()) << file;
    ASSERT_EQ(request.topic_data.size(), 1u) << file;
    EXPECT_EQ(request.topic_data[0].name, "golden") << file;
    ASSERT_EQ(request.topic_data[0].partition_data.size(), 1u) << file;
    EXPECT_EQ(request.topic_data[0].partition_data[0].index, 0) << file;
    expectBatchOfTwoRecords(request.topic_data[0].partition_data[0].records, file);
  }
}

TEST(GoldenTest, MockProduceResponseAcknowledgesThePartition) {
  auto response = decodeResponse<ProduceApi>(goldenFile("mock_produce_response_v7.hex"));
  ASSERT_EQ(response.responses.size(), 1u);
  EXPECT_EQ(response.responses[0].name, "golden");
  ASSERT_EQ(response.responses[0].partition_responses.size(), 1u);
  EXPECT_EQ(response.responses[0].partition_responses[0].index, 0);
  EXPECT_EQ(response.responses[0].partition_responses[0].error_code, 0);
  EXPECT_GE(response.responses[0].partition_responses[0].base_offset, 0);
}

TEST(GoldenTest, FetchRequestsAskForTheTopicFromTheStart) {
  for (const char* file : {"kcat_fetch_request_v11.hex", "kafka_python_fetch_request_v4.hex"}) {
    auto request = decodeRequest<FetchApi>(goldenFile(file));
    EXPECT_EQ(request.replica_id, -1) << file;
    ASSERT_EQ(request.topics.size(), 1u) << file;
    EXPECT_EQ(request.topics[0].topic, "golden") << file;
    ASSERT_EQ(request.topics[0].partitions.size(), 1u) << file;
    EXPECT_EQ(request.topics[0].partitions[0].partition, 0) << file;
    EXPECT_GT(request.topics[0].partitions[0].partition_max_bytes, 0) << file;
  }
}

TEST(GoldenTest, MockFetchResponsesCarryTheProducedRecords) {
  for (const char* file : {"mock_fetch_response_v11.hex", "mock_fetch_response_v4.hex"}) {
    auto response = decodeResponse<FetchApi>(goldenFile(file));
    ASSERT_EQ(response.responses.size(), 1u) << file;
    EXPECT_EQ(response.responses[0].topic, "golden") << file;
    ASSERT_EQ(response.responses[0].partitions.size(), 1u) << file;
    const auto& partition = response.responses[0].partitions[0];
    EXPECT_EQ(partition.partition_index, 0) << file;
    EXPECT_EQ(partition.error_code, 0) << file;
    EXPECT_GE(partition.high_watermark, 2) << file;
    expectBatchOfTwoRecords(partition.records, file);
  }
}

}  // namespace
}  // namespace kafka::protocol
