// Golden frames: bytes that other Kafka implementations put on the wire (requests of kcat and
// kafka-python, responses of librdkafka's mock broker), captured by tests/golden/capture.py and
// listed in tests/golden/MANIFEST.txt, and the admin APIs' requests and responses as kafka-python
// encodes them (tests/golden/kafka_python_admin.py). Each must decode with our definitions and
// re-encode to the very same bytes, which checks field order, types, versions and nullability
// against implementations we did not write.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "client_core/group/consumer_protocol.hpp"
#include "client_core/protocol/dispatch.hpp"
#include "tests/unit/golden_frames.hpp"

namespace kafka::protocol {
namespace {

using testing::decodeRequest;
using testing::decodeResponse;
using testing::golden;
using testing::goldenFile;
using testing::GoldenFrame;
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

// The admin APIs, which no broker here serves: kafka-python's requests and responses, each in
// at least two versions.
TEST(GoldenTest, ManifestCoversTheAdminApisBothWays) {
  for (ApiKey key : {ApiKey::kCreateTopics, ApiKey::kDeleteTopics, ApiKey::kDescribeConfigs,
                     ApiKey::kListGroups, ApiKey::kDescribeGroups}) {
    std::set<int16_t> requests;
    std::set<int16_t> responses;
    for (const GoldenFrame& f : golden()) {
      if (f.api_key != static_cast<int16_t>(key) || f.producer != "kafka-python") continue;
      (f.request ? requests : responses).insert(f.version);
    }
    EXPECT_GE(requests.size(), 2u) << apiName(key);
    EXPECT_GE(responses.size(), 2u) << apiName(key);
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
  EXPECT_GE(checked, 60u);
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

TEST(GoldenTest, KafkaPythonCreateTopicsRequestsCarryEveryTopicSetting) {
  for (int16_t version : {2, 3}) {
    auto request = decodeRequest<CreateTopicsApi>(
        goldenFile("kafka_python_create_topics_request_v" + std::to_string(version) + ".hex"));
    SCOPED_TRACE(version);
    ASSERT_EQ(request.topics.size(), 2u);
    const auto& created = request.topics[0];
    EXPECT_EQ(created.name, "golden-created");
    EXPECT_EQ(created.num_partitions, 3);
    EXPECT_EQ(created.replication_factor, 2);
    ASSERT_EQ(created.configs.size(), 2u);
    EXPECT_EQ(created.configs[0].name, "cleanup.policy");
    EXPECT_EQ(created.configs[0].value, "compact");
    EXPECT_EQ(created.configs[1].name, "retention.ms");
    EXPECT_FALSE(created.configs[1].value.has_value()) << "a null value";
    const auto& assigned = request.topics[1];
    EXPECT_EQ(assigned.num_partitions, -1);
    EXPECT_EQ(assigned.replication_factor, -1);
    ASSERT_EQ(assigned.assignments.size(), 2u);
    EXPECT_EQ(assigned.assignments[1].partition_index, 1);
    EXPECT_EQ(assigned.assignments[1].broker_ids, (std::vector<int32_t>{2, 3}));
    EXPECT_EQ(request.timeout_ms, 30000);
    EXPECT_EQ(request.validate_only, version == 3);
  }
}

TEST(GoldenTest, KafkaPythonCreateTopicsResponsesCarryPerTopicErrors) {
  auto response =
      decodeResponse<CreateTopicsApi>(goldenFile("kafka_python_create_topics_response_v2.hex"));
  EXPECT_EQ(response.throttle_time_ms, 2);
  ASSERT_EQ(response.topics.size(), 2u);
  EXPECT_EQ(response.topics[0].error_code, 0);
  EXPECT_FALSE(response.topics[0].error_message.has_value());
  EXPECT_EQ(response.topics[1].name, "golden-assigned");
  EXPECT_EQ(fromWire(response.topics[1].error_code), ErrorCode::kTopicAlreadyExists);
  EXPECT_EQ(response.topics[1].error_message, "Topic 'golden-assigned' already exists.");
}

TEST(GoldenTest, KafkaPythonDeleteTopicsFramesNameTheTopics) {
  auto request =
      decodeRequest<DeleteTopicsApi>(goldenFile("kafka_python_delete_topics_request_v3.hex"));
  EXPECT_EQ(request.topic_names, (std::vector<std::string>{"golden-a", "golden-b"}));
  EXPECT_EQ(request.timeout_ms, 15000);
  auto response =
      decodeResponse<DeleteTopicsApi>(goldenFile("kafka_python_delete_topics_response_v1.hex"));
  ASSERT_EQ(response.responses.size(), 2u);
  EXPECT_EQ(response.responses[1].name, "golden-b");
  EXPECT_EQ(fromWire(response.responses[1].error_code), ErrorCode::kUnknownTopicOrPartition);
}

TEST(GoldenTest, KafkaPythonDescribeConfigsFrames) {
  auto request =
      decodeRequest<DescribeConfigsApi>(goldenFile("kafka_python_describe_configs_request_v2.hex"));
  ASSERT_EQ(request.resources.size(), 2u);
  EXPECT_EQ(request.resources[0].resource_type, config_resource::kTopic);
  EXPECT_EQ(request.resources[0].configuration_keys,
            (std::vector<std::string>{"cleanup.policy", "ssl.key.password"}));
  EXPECT_EQ(request.resources[1].resource_type, config_resource::kBroker);
  EXPECT_FALSE(request.resources[1].configuration_keys.has_value()) << "null: every key";
  EXPECT_TRUE(request.include_synonyms);

  auto response = decodeResponse<DescribeConfigsApi>(
      goldenFile("kafka_python_describe_configs_response_v2.hex"));
  ASSERT_EQ(response.results.size(), 2u);
  const auto& topic = response.results[0];
  EXPECT_EQ(topic.resource_name, "golden");
  EXPECT_FALSE(topic.error_message.has_value());
  ASSERT_EQ(topic.configs.size(), 2u);
  EXPECT_EQ(topic.configs[0].value, "compact");
  EXPECT_EQ(topic.configs[0].config_source, 1);
  ASSERT_EQ(topic.configs[0].synonyms.size(), 2u);
  EXPECT_EQ(topic.configs[0].synonyms[1].name, "log.cleanup.policy");
  EXPECT_EQ(topic.configs[0].synonyms[1].source, 5);
  const auto& password = topic.configs[1];
  EXPECT_TRUE(password.is_sensitive);
  EXPECT_TRUE(password.read_only);
  EXPECT_FALSE(password.value.has_value());
  EXPECT_EQ(password.config_source, 4);
  EXPECT_EQ(fromWire(response.results[1].error_code), ErrorCode::kTopicAuthorizationFailed);
  EXPECT_EQ(response.results[1].error_message, "Not authorized");
}

TEST(GoldenTest, KafkaPythonListGroupsResponsesListTheGroups) {
  for (const char* file :
       {"kafka_python_list_groups_response_v0.hex", "kafka_python_list_groups_response_v1.hex"}) {
    auto response = decodeResponse<ListGroupsApi>(goldenFile(file));
    EXPECT_EQ(response.error_code, 0) << file;
    ASSERT_EQ(response.groups.size(), 2u) << file;
    EXPECT_EQ(response.groups[0].group_id, "golden-group") << file;
    EXPECT_EQ(response.groups[0].protocol_type, "consumer") << file;
    EXPECT_EQ(response.groups[1].protocol_type, "") << file;
  }
}

TEST(GoldenTest, KafkaPythonDescribeGroupsCarryConsumerProtocolMembers) {
  auto request =
      decodeRequest<DescribeGroupsApi>(goldenFile("kafka_python_describe_groups_request_v3.hex"));
  EXPECT_EQ(request.groups, (std::vector<std::string>{"golden-group", "golden-gone"}));
  EXPECT_TRUE(request.include_authorized_operations);
  for (const char* file : {"kafka_python_describe_groups_response_v0.hex",
                           "kafka_python_describe_groups_response_v2.hex"}) {
    auto response = decodeResponse<DescribeGroupsApi>(goldenFile(file));
    ASSERT_EQ(response.groups.size(), 2u) << file;
    const auto& stable = response.groups[0];
    EXPECT_EQ(stable.group_state, "Stable") << file;
    EXPECT_EQ(stable.protocol_data, "range") << file;
    ASSERT_EQ(stable.members.size(), 1u) << file;
    const auto& member = stable.members[0];
    EXPECT_EQ(member.client_host, "/127.0.0.1") << file;
    // kafka-python's own encoding of the consumer protocol.
    auto assignment = group::decodeAssignment(member.member_assignment);
    ASSERT_TRUE(assignment.ok()) << assignment.error().toString();
    EXPECT_EQ(group::flatten(assignment->partitions),
              (std::vector<TopicPartition>{{"audit", 1}, {"golden", 0}, {"golden", 2}}));
    auto subscription = group::decodeSubscription(member.member_metadata);
    ASSERT_TRUE(subscription.ok()) << subscription.error().toString();
    EXPECT_EQ(subscription->topics, (std::vector<std::string>{"golden", "audit"}));
    EXPECT_EQ(response.groups[1].group_state, "Dead") << file;
    EXPECT_TRUE(response.groups[1].members.empty()) << file;
  }
}

}  // namespace
}  // namespace kafka::protocol
