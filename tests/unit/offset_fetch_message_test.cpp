#include "client_core/protocol/messages/offset_fetch.hpp"
#include "tests/unit/round_trip.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

using testing::VersionRange;
using testing::wire;

Bytes topicIdBytes() {
  return {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
          0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};
}

std::vector<OffsetFetchResponse::Partition> samplePartitions() {
  return {{0, 1234, 3, "host-a", 0, {}}, {3, -1, -1, std::nullopt, 58, {}}};
}

// v8+: several groups per request. Topics are named by id in v10 and by name in v8-9.
OffsetFetchRequest batchRequest(bool topic_ids) {
  OffsetFetchRequest r;
  OffsetFetchRequest::Topic topic;
  if (topic_ids) {
    topic.topic_id = testing::sequentialUuid(0xa0);
  } else {
    topic.name = "payments";
  }
  topic.partition_indexes = {0, 3};
  r.groups = {{"orders", "consumer-1-7f3a", 5, std::vector{topic}, {}},
              {"audit", std::nullopt, -1, std::nullopt, {}}};
  r.require_stable = true;
  return r;
}

OffsetFetchResponse batchResponse(bool topic_ids) {
  OffsetFetchResponse r;
  r.throttle_time_ms = 20;
  OffsetFetchResponse::Topic topic;
  if (topic_ids) {
    topic.topic_id = testing::sequentialUuid(0xa0);
  } else {
    topic.name = "payments";
  }
  topic.partitions = samplePartitions();
  r.groups = {{"orders", {topic}, 0, {}}, {"audit", {}, 16, {}}};  // 16 NOT_COORDINATOR
  return r;
}

// v0-7: one group per request.
OffsetFetchRequest singleGroupRequest() {
  OffsetFetchRequest r;
  r.group_id = "orders";
  r.topics = std::vector<OffsetFetchRequest::Topic>{{"payments", {}, {0, 3}, {}}};
  r.require_stable = true;
  return r;
}

OffsetFetchResponse singleGroupResponse() {
  OffsetFetchResponse r;
  r.throttle_time_ms = 20;
  r.topics = {{"payments", {}, samplePartitions(), {}}};
  r.error_code = 16;
  return r;
}

TEST(OffsetFetchMessageTest, RoundTripsAtEveryVersion) {
  testing::expectRoundTripAllVersions<OffsetFetchApi>(batchRequest(true), batchResponse(true));
  testing::expectRoundTripAllVersions<VersionRange<OffsetFetchApi, 0, 9>>(batchRequest(false),
                                                                          batchResponse(false));
  testing::expectRoundTripAllVersions<VersionRange<OffsetFetchApi, 0, 7>>(singleGroupRequest(),
                                                                          singleGroupResponse());
  // From v2 a null topic list asks for every committed partition.
  OffsetFetchRequest all_topics = singleGroupRequest();
  all_topics.topics.reset();
  testing::expectRoundTripAllVersions<VersionRange<OffsetFetchApi, 0, 7>>(all_topics,
                                                                          singleGroupResponse());
}

TEST(OffsetFetchMessageTest, DefaultsFollowTheSchema) {
  EXPECT_EQ(OffsetFetchRequest{}.topics, std::vector<OffsetFetchRequest::Topic>{});
  OffsetFetchRequest::Group group;
  EXPECT_EQ(group.member_id, std::nullopt);
  EXPECT_EQ(group.member_epoch, -1);
  EXPECT_EQ(OffsetFetchResponse::Partition{}.committed_leader_epoch, -1);
}

TEST(OffsetFetchMessageTest, TruncatedResponsesFail) {
  for (int16_t v : {0, 2, 5, 6, 7}) {
    testing::expectTruncationsFail<OffsetFetchApi>(singleGroupResponse(), v);
  }
  testing::expectTruncationsFail<OffsetFetchApi>(batchResponse(false), 8);
  testing::expectTruncationsFail<OffsetFetchApi>(batchResponse(true), 10);
}

TEST(OffsetFetchMessageTest, ClassicVersionsMatchTheSpec) {
  OffsetFetchRequest request;
  request.group_id = "g";
  request.topics = std::vector<OffsetFetchRequest::Topic>{{"t", {}, {0, 1}, {}}};
  // v1: group, int32-counted topics, each with an int32-counted array of partition indexes.
  testing::expectWireBytes<OffsetFetchApi>(
      request, 1,
      wire({{0, 1}, "g", {0, 0, 0, 1}, {0, 1}, "t", {0, 0, 0, 2}, {0, 0, 0, 0}, {0, 0, 0, 1}}));
  // v2: a null topic list is the int32 count -1.
  request.topics.reset();
  testing::expectWireBytes<OffsetFetchApi>(request, 2,
                                           wire({{0, 1}, "g", {0xff, 0xff, 0xff, 0xff}}));

  OffsetFetchResponse response;
  response.topics = {{"t", {}, {{0, 42, -1, "", 0, {}}}, {}}};
  // v1: per partition index, offset, metadata and error code.
  testing::expectWireBytes<OffsetFetchApi>(response, 1,
                                           wire({{0, 0, 0, 1},
                                                 {0, 1},
                                                 "t",
                                                 {0, 0, 0, 1},
                                                 {0, 0, 0, 0},
                                                 {0, 0, 0, 0, 0, 0, 0, 42},
                                                 {0, 0},
                                                 {0, 0}}));
  // v5: throttle time first, the leader epoch after the offset, a group error code last.
  response.topics[0].partitions[0].committed_leader_epoch = 3;
  response.topics[0].partitions[0].metadata.reset();
  response.error_code = 16;
  testing::expectWireBytes<OffsetFetchApi>(response, 5,
                                           wire({{0, 0, 0, 0},
                                                 {0, 0, 0, 1},
                                                 {0, 1},
                                                 "t",
                                                 {0, 0, 0, 1},
                                                 {0, 0, 0, 0},
                                                 {0, 0, 0, 0, 0, 0, 0, 42},
                                                 {0, 0, 0, 3},
                                                 {0xff, 0xff},
                                                 {0, 0},
                                                 {0, 16}}));
}

TEST(OffsetFetchMessageTest, FlexibleVersionsMatchTheSpec) {
  OffsetFetchRequest request;
  request.group_id = "g";
  request.topics.reset();
  request.require_stable = true;
  // v7: compact group id, null compact array (0), require_stable, tag count.
  testing::expectWireBytes<OffsetFetchApi>(request, 7, wire({{2}, "g", {0}, {1}, {0}}));

  // v8: only the groups array; a group is its id, its topics (null here) and its tags.
  request = {};
  request.groups = {{"g", std::nullopt, -1, std::nullopt, {}}};
  testing::expectWireBytes<OffsetFetchApi>(request, 8, wire({{2}, {2}, "g", {0}, {0}, {0}, {0}}));

  // v9: member id and epoch after the group id; v10 names the topic by id.
  OffsetFetchRequest::Topic topic{"", testing::sequentialUuid(0xa0), {0}, {}};
  request.groups = {{"g", "m", 7, std::vector{topic}, {}}};
  request.require_stable = true;
  testing::expectWireBytes<OffsetFetchApi>(request, 10,
                                           wire({{2},
                                                 {2},
                                                 "g",
                                                 {2},
                                                 "m",
                                                 {0, 0, 0, 7},
                                                 {2},
                                                 topicIdBytes(),
                                                 {2, 0, 0, 0, 0},
                                                 {0},
                                                 {0},
                                                 {1},
                                                 {0}}));

  OffsetFetchResponse response;
  response.groups = {{"g", {{"t", {}, {{0, -1, -1, std::nullopt, 0, {}}}, {}}}, 0, {}}};
  testing::expectWireBytes<OffsetFetchApi>(response, 8,
                                           wire({{0, 0, 0, 0},
                                                 {2},
                                                 {2},
                                                 "g",
                                                 {2},
                                                 {2},
                                                 "t",
                                                 {2},
                                                 {0, 0, 0, 0},
                                                 {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                                                 {0xff, 0xff, 0xff, 0xff},
                                                 {0},
                                                 {0, 0},
                                                 {0},
                                                 {0},
                                                 {0, 0},
                                                 {0},
                                                 {0}}));
}

TEST(OffsetFetchMessageTest, FieldsStartAtTheirFirstVersion) {
  OffsetFetchRequest request;
  request.group_id = "g";
  request.topics = std::vector<OffsetFetchRequest::Topic>{{"t", {}, {0}, {}}};
  testing::expectWireBytes<OffsetFetchApi>(
      request, 0, wire({{0, 1}, "g", {0, 0, 0, 1}, {0, 1}, "t", {0, 0, 0, 1}, {0, 0, 0, 0}}));
  // v6: flexible, without the require_stable flag of v7.
  request.topics.reset();
  testing::expectWireBytes<OffsetFetchApi>(request, 6, wire({{2}, "g", {0}, {0}}));
  // v9: the member id and epoch follow the group id; topics still have names.
  request = {};
  request.groups = {{"g", "m", 7, std::vector<OffsetFetchRequest::Topic>{{"t", {}, {0}, {}}}, {}}};
  testing::expectWireBytes<OffsetFetchApi>(request, 9,
                                           wire({{2},
                                                 {2},
                                                 "g",
                                                 {2},
                                                 "m",
                                                 {0, 0, 0, 7},
                                                 {2},
                                                 {2},
                                                 "t",
                                                 {2, 0, 0, 0, 0},
                                                 {0},
                                                 {0},
                                                 {0},
                                                 {0}}));

  OffsetFetchResponse response;
  response.throttle_time_ms = 4;
  response.topics = {{"t", {}, {{0, 42, -1, "", 0, {}}}, {}}};
  response.error_code = 16;
  const Bytes topics =
      wire({{0, 0, 0, 1}, {0, 1}, "t", {0, 0, 0, 1}, {0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 42}});
  // v3-4: throttle time and group error; no leader epoch before v5.
  testing::expectWireBytes<OffsetFetchApi>(response, 4,
                                           wire({{0, 0, 0, 4}, topics, {0, 0}, {0, 0}, {0, 16}}));
  response.throttle_time_ms = 0;
  testing::expectWireBytes<OffsetFetchApi>(response, 2, wire({topics, {0, 0}, {0, 0}, {0, 16}}));
  // v6: flexible single-group layout with the leader epoch.
  response.topics[0].partitions[0].committed_leader_epoch = 3;
  testing::expectWireBytes<OffsetFetchApi>(response, 6,
                                           wire({{0, 0, 0, 0},
                                                 {2},
                                                 {2},
                                                 "t",
                                                 {2},
                                                 {0, 0, 0, 0},
                                                 {0, 0, 0, 0, 0, 0, 0, 42},
                                                 {0, 0, 0, 3},
                                                 {1},
                                                 {0, 0},
                                                 {0},
                                                 {0},
                                                 {0, 16},
                                                 {0}}));

  // v10: a group's topic is its id.
  response = {};
  response.groups = {{"g", {{"", testing::sequentialUuid(0xa0), {{0, 42, 3, "", 0, {}}}, {}}}, 0, {}}};
  testing::expectWireBytes<OffsetFetchApi>(response, 10,
                                           wire({{0, 0, 0, 0},
                                                 {2},
                                                 {2},
                                                 "g",
                                                 {2},
                                                 topicIdBytes(),
                                                 {2},
                                                 {0, 0, 0, 0},
                                                 {0, 0, 0, 0, 0, 0, 0, 42},
                                                 {0, 0, 0, 3},
                                                 {1},
                                                 {0, 0},
                                                 {0},
                                                 {0},
                                                 {0, 0},
                                                 {0},
                                                 {0}}));
}

TEST(OffsetFetchMessageTest, ResponseLayoutsOfEachVersionMatchTheSpec) {
  OffsetFetchResponse response;
  response.topics = {{"t", {}, {{1, 42, -1, std::nullopt, 3, {}}}, {}}};
  const Bytes partition = wire({{0, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 0, 42}});
  const Bytes topic_head = wire({{0, 0, 0, 1}, {0, 1}, "t", {0, 0, 0, 1}});
  // v0: topics only.
  testing::expectWireBytes<OffsetFetchApi>(response, 0,
                                           wire({topic_head, partition, {0xff, 0xff}, {0, 3}}));
  // v3 and v4: the throttle time comes first; v2 added the group error code last.
  response.throttle_time_ms = 6;
  const Bytes v3 = wire({{0, 0, 0, 6}, topic_head, partition, {0xff, 0xff}, {0, 3}, {0, 0}});
  testing::expectWireBytes<OffsetFetchApi>(response, 3, v3);
  testing::expectWireBytes<OffsetFetchApi>(response, 4, v3);
  // v7: the last single-group layout.
  response.topics[0].partitions[0].committed_leader_epoch = 2;
  testing::expectWireBytes<OffsetFetchApi>(response, 7,
                                           wire({{0, 0, 0, 6},
                                                 {2},
                                                 {2},
                                                 "t",
                                                 {2},
                                                 partition,
                                                 {0, 0, 0, 2},
                                                 {0},
                                                 {0, 3},
                                                 {0},
                                                 {0},
                                                 {0, 0},
                                                 {0}}));

  // v9: per-group topics still have names.
  response = {};
  response.groups = {{"g", {{"t", {}, {{1, 42, 2, std::nullopt, 3, {}}}, {}}}, 0, {}}};
  testing::expectWireBytes<OffsetFetchApi>(response, 9,
                                           wire({{0, 0, 0, 0},
                                                 {2},
                                                 {2},
                                                 "g",
                                                 {2},
                                                 {2},
                                                 "t",
                                                 {2},
                                                 partition,
                                                 {0, 0, 0, 2},
                                                 {0},
                                                 {0, 3},
                                                 {0},
                                                 {0},
                                                 {0, 0},
                                                 {0},
                                                 {0}}));
}

TEST(OffsetFetchMessageTest, NullTopicsBeforeVersionTwoAreWrittenAsEmpty) {
  OffsetFetchRequest request;
  request.group_id = "g";
  request.topics.reset();
  Bytes encoded;
  Writer w(encoded);
  encodeMessage(w, request, SchemaContext{1, false});
  EXPECT_EQ(encoded, wire({{0, 1}, "g", {0, 0, 0, 0}}));
}

}  // namespace
}  // namespace kafka::protocol
