#include "client_core/protocol/messages/offset_commit.hpp"
#include "tests/unit/round_trip.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

using testing::VersionRange;
using testing::wire;

// Every field of v10. Topics are named by id there; `withTopicName` makes a sample for v0-9.
OffsetCommitRequest sampleRequest() {
  OffsetCommitRequest r;
  r.group_id = "orders";
  r.generation_id_or_member_epoch = 9;
  r.member_id = "consumer-1-7f3a";
  r.group_instance_id = "pod-3";
  OffsetCommitRequest::Topic topic;
  topic.topic_id = testing::sequentialUuid(1);
  topic.partitions = {{0, 1234, 3, -1, "host-a", {}}, {7, 99, 2, -1, std::nullopt, {}}};
  r.topics = {topic};
  return r;
}

OffsetCommitResponse sampleResponse() {
  OffsetCommitResponse r;
  r.throttle_time_ms = 20;
  OffsetCommitResponse::Topic topic;
  topic.topic_id = testing::sequentialUuid(1);
  topic.partitions = {{0, 0, {}}, {7, 22, {}}};  // 22 ILLEGAL_GENERATION
  r.topics = {topic};
  return r;
}

template <class Message>
Message withTopicName(Message m) {
  m.topics[0].topic_id = Uuid{};
  m.topics[0].name = "payments";
  return m;
}

TEST(OffsetCommitMessageTest, RoundTripsAtEveryVersion) {
  testing::expectRoundTripAllVersions<OffsetCommitApi>(sampleRequest(), sampleResponse());
  testing::expectRoundTripAllVersions<VersionRange<OffsetCommitApi, 0, 9>>(
      withTopicName(sampleRequest()), withTopicName(sampleResponse()));
}

TEST(OffsetCommitMessageTest, RoundTripsFieldsOfOldVersions) {
  // v1 alone has a per-partition commit timestamp, v2-4 a retention time; neither has the
  // instance id, the leader epoch, or (before v3) the throttle time.
  OffsetCommitRequest request = withTopicName(sampleRequest());
  request.group_instance_id.reset();
  for (auto& p : request.topics[0].partitions) {
    p.committed_leader_epoch = -1;
    p.commit_timestamp = 1700000000000;
  }
  OffsetCommitResponse response = withTopicName(sampleResponse());
  response.throttle_time_ms = 0;
  testing::expectRoundTripAllVersions<VersionRange<OffsetCommitApi, 0, 1>>(request, response);

  for (auto& p : request.topics[0].partitions) p.commit_timestamp = -1;
  request.retention_time_ms = 86400000;
  response.throttle_time_ms = 20;
  testing::expectRoundTripAllVersions<VersionRange<OffsetCommitApi, 2, 4>>(request, response);
}

TEST(OffsetCommitMessageTest, DefaultsFollowTheSchema) {
  OffsetCommitRequest request;
  EXPECT_EQ(request.generation_id_or_member_epoch, -1);
  EXPECT_EQ(request.retention_time_ms, -1);
  OffsetCommitRequest::Partition partition;
  EXPECT_EQ(partition.committed_leader_epoch, -1);
  EXPECT_EQ(partition.commit_timestamp, -1);
}

TEST(OffsetCommitMessageTest, TruncatedResponsesFail) {
  for (int16_t v : {0, 3, 7, 8}) {
    testing::expectTruncationsFail<OffsetCommitApi>(withTopicName(sampleResponse()), v);
  }
  testing::expectTruncationsFail<OffsetCommitApi>(sampleResponse(), 10);
}

TEST(OffsetCommitMessageTest, ClassicVersionsMatchTheSpec) {
  OffsetCommitRequest request;
  request.group_id = "g";
  request.topics = {{"t", {}, {{0, 42, -1, -1, "", {}}}, {}}};
  // v0: group, then topics; a partition is index, offset, int16-length metadata.
  testing::expectWireBytes<OffsetCommitApi>(request, 0,
                                            wire({{0, 1},
                                                  "g",
                                                  {0, 0, 0, 1},
                                                  {0, 1},
                                                  "t",
                                                  {0, 0, 0, 1},
                                                  {0, 0, 0, 0},
                                                  {0, 0, 0, 0, 0, 0, 0, 42},
                                                  {0, 0}}));

  // v1: generation and member id; the partition gains its commit timestamp (1000 = 0x3e8)
  // before the metadata, here null.
  request.generation_id_or_member_epoch = 3;
  request.member_id = "m";
  request.topics[0].partitions[0].partition_index = 1;
  request.topics[0].partitions[0].commit_timestamp = 1000;
  request.topics[0].partitions[0].committed_metadata.reset();
  testing::expectWireBytes<OffsetCommitApi>(request, 1,
                                            wire({{0, 1},
                                                  "g",
                                                  {0, 0, 0, 3},
                                                  {0, 1},
                                                  "m",
                                                  {0, 0, 0, 1},
                                                  {0, 1},
                                                  "t",
                                                  {0, 0, 0, 1},
                                                  {0, 0, 0, 1},
                                                  {0, 0, 0, 0, 0, 0, 0, 42},
                                                  {0, 0, 0, 0, 0, 0, 0x03, 0xe8},
                                                  {0xff, 0xff}}));

  // v2: the timestamp is gone and the int64 retention time (default -1) follows the member id.
  request.topics[0].partitions[0].commit_timestamp = -1;
  testing::expectWireBytes<OffsetCommitApi>(request, 2,
                                            wire({{0, 1},
                                                  "g",
                                                  {0, 0, 0, 3},
                                                  {0, 1},
                                                  "m",
                                                  {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                                                  {0, 0, 0, 1},
                                                  {0, 1},
                                                  "t",
                                                  {0, 0, 0, 1},
                                                  {0, 0, 0, 1},
                                                  {0, 0, 0, 0, 0, 0, 0, 42},
                                                  {0xff, 0xff}}));

  // v7: no retention; instance id (null) after the member id; leader epoch after the offset.
  request.topics[0].partitions[0].committed_leader_epoch = 5;
  testing::expectWireBytes<OffsetCommitApi>(request, 7,
                                            wire({{0, 1},
                                                  "g",
                                                  {0, 0, 0, 3},
                                                  {0, 1},
                                                  "m",
                                                  {0xff, 0xff},
                                                  {0, 0, 0, 1},
                                                  {0, 1},
                                                  "t",
                                                  {0, 0, 0, 1},
                                                  {0, 0, 0, 1},
                                                  {0, 0, 0, 0, 0, 0, 0, 42},
                                                  {0, 0, 0, 5},
                                                  {0xff, 0xff}}));

  OffsetCommitResponse response;
  response.topics = {{"t", {}, {{0, 12, {}}}, {}}};
  testing::expectWireBytes<OffsetCommitApi>(
      response, 0, wire({{0, 0, 0, 1}, {0, 1}, "t", {0, 0, 0, 1}, {0, 0, 0, 0}, {0, 12}}));
}

TEST(OffsetCommitMessageTest, FlexibleVersionsMatchTheSpec) {
  OffsetCommitRequest request;
  request.group_id = "g";
  request.generation_id_or_member_epoch = 3;
  request.member_id = "m";
  request.topics = {{"t", {}, {{0, 42, 5, -1, std::nullopt, {}}}, {}}};
  // v8: compact strings and arrays, null instance id and metadata (0), tag counts after each
  // partition, topic and the body.
  testing::expectWireBytes<OffsetCommitApi>(request, 8,
                                            wire({{2},
                                                  "g",
                                                  {0, 0, 0, 3},
                                                  {2},
                                                  "m",
                                                  {0},
                                                  {2},
                                                  {2},
                                                  "t",
                                                  {2},
                                                  {0, 0, 0, 0},
                                                  {0, 0, 0, 0, 0, 0, 0, 42},
                                                  {0, 0, 0, 5},
                                                  {0},
                                                  {0},
                                                  {0},
                                                  {0}}));

  // v10: the topic is its 16-byte id instead of its name.
  request.topics[0].name.clear();
  request.topics[0].topic_id = testing::sequentialUuid(1);
  const Bytes id = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  testing::expectWireBytes<OffsetCommitApi>(request, 10,
                                            wire({{2},
                                                  "g",
                                                  {0, 0, 0, 3},
                                                  {2},
                                                  "m",
                                                  {0},
                                                  {2},
                                                  id,
                                                  {2},
                                                  {0, 0, 0, 0},
                                                  {0, 0, 0, 0, 0, 0, 0, 42},
                                                  {0, 0, 0, 5},
                                                  {0},
                                                  {0},
                                                  {0},
                                                  {0}}));

  OffsetCommitResponse response;
  response.topics = {{"", testing::sequentialUuid(1), {{0, 0, {}}}, {}}};
  testing::expectWireBytes<OffsetCommitApi>(
      response, 10, wire({{0, 0, 0, 0}, {2}, id, {2}, {0, 0, 0, 0}, {0, 0}, {0}, {0}, {0}}));
}

TEST(OffsetCommitMessageTest, FieldsStartAtTheirFirstVersion) {
  OffsetCommitRequest request;
  request.group_id = "g";
  request.generation_id_or_member_epoch = 3;
  request.member_id = "m";
  request.retention_time_ms = 0x0102;
  request.topics = {{"t", {}, {{0, 42, -1, -1, std::nullopt, {}}}, {}}};
  const Bytes topics =
      wire({{0, 0, 0, 1}, {0, 1}, "t", {0, 0, 0, 1}, {0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 42}});
  // v4 still has the retention time; v5 drops it.
  testing::expectWireBytes<OffsetCommitApi>(request, 4,
                                            wire({{0, 1},
                                                  "g",
                                                  {0, 0, 0, 3},
                                                  {0, 1},
                                                  "m",
                                                  {0, 0, 0, 0, 0, 0, 1, 2},
                                                  topics,
                                                  {0xff, 0xff}}));
  request.retention_time_ms = -1;
  testing::expectWireBytes<OffsetCommitApi>(
      request, 5, wire({{0, 1}, "g", {0, 0, 0, 3}, {0, 1}, "m", topics, {0xff, 0xff}}));
  // v6 adds the leader epoch after the offset, still without the instance id.
  request.topics[0].partitions[0].committed_leader_epoch = 5;
  testing::expectWireBytes<OffsetCommitApi>(
      request, 6,
      wire({{0, 1}, "g", {0, 0, 0, 3}, {0, 1}, "m", topics, {0, 0, 0, 5}, {0xff, 0xff}}));
  // v9 still names the topic.
  testing::expectWireBytes<OffsetCommitApi>(request, 9,
                                            wire({{2},
                                                  "g",
                                                  {0, 0, 0, 3},
                                                  {2},
                                                  "m",
                                                  {0},
                                                  {2},
                                                  {2},
                                                  "t",
                                                  {2},
                                                  {0, 0, 0, 0},
                                                  {0, 0, 0, 0, 0, 0, 0, 42},
                                                  {0, 0, 0, 5},
                                                  {0},
                                                  {0},
                                                  {0},
                                                  {0}}));

  OffsetCommitResponse response;
  response.throttle_time_ms = 4;
  response.topics = {{"t", {}, {{0, 0, {}}}, {}}};
  const Bytes body = wire({{0, 0, 0, 1}, {0, 1}, "t", {0, 0, 0, 1}, {0, 0, 0, 0}, {0, 0}});
  testing::expectWireBytes<OffsetCommitApi>(response, 3, wire({{0, 0, 0, 4}, body}));
  response.throttle_time_ms = 0;
  testing::expectWireBytes<OffsetCommitApi>(response, 2, body);
}

TEST(OffsetCommitMessageTest, NullMetadataAndTopicNamesMatchTheSpec) {
  OffsetCommitRequest request;
  request.group_id = "g";
  request.topics = {{"t", {}, {{0, 42, -1, -1, std::nullopt, {}}}, {}}};
  testing::expectWireBytes<OffsetCommitApi>(request, 0,
                                            wire({{0, 1},
                                                  "g",
                                                  {0, 0, 0, 1},
                                                  {0, 1},
                                                  "t",
                                                  {0, 0, 0, 1},
                                                  {0, 0, 0, 0},
                                                  {0, 0, 0, 0, 0, 0, 0, 42},
                                                  {0xff, 0xff}}));

  // v9 responses still name the topic.
  OffsetCommitResponse response;
  response.topics = {{"t", {}, {{0, 0, {}}}, {}}};
  testing::expectWireBytes<OffsetCommitApi>(
      response, 9, wire({{0, 0, 0, 0}, {2}, {2}, "t", {2}, {0, 0, 0, 0}, {0, 0}, {0}, {0}, {0}}));
}

}  // namespace
}  // namespace kafka::protocol
