// The consumer protocol's subscription and assignment: round trips at every version, the exact
// layout, newer versions read as far as we know them, hostile bytes refused with errors, and the
// metadata that kcat and kafka-python really sent (golden captures) read as they meant it.
#include "client_core/group/consumer_protocol.hpp"

#include <gtest/gtest.h>

#include <string>

#include "client_core/protocol/messages/join_group.hpp"
#include "client_core/protocol/messages/sync_group.hpp"
#include "tests/unit/golden_frames.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::group {
namespace {

using protocol::Bytes;
using protocol::testing::decodeRequest;
using protocol::testing::decodeResponse;
using protocol::testing::goldenFile;
using protocol::testing::wire;

MemberSubscription sampleSubscription() {
  MemberSubscription s;
  s.topics = {"orders", "payments"};
  s.user_data = Bytes{0, 0, 0, 7};
  s.owned_partitions = {{"orders", {0, 2}}, {"payments", {1}}};
  s.generation_id = 12;
  s.rack_id = "eu-west-1a";
  return s;
}

MemberAssignment sampleAssignment() {
  return {{{"orders", {1, 3}}, {"payments", {0}}}, Bytes{9, 8}};
}

// What a subscription keeps of `s` at `version`: the fields of later versions fall back to their
// defaults.
MemberSubscription atVersion(MemberSubscription s, int16_t version) {
  if (version < 1) s.owned_partitions.clear();
  if (version < 2) s.generation_id = -1;
  if (version < 3) s.rack_id.reset();
  return s;
}

int16_t versionPrefix(const Bytes& bytes) {
  protocol::Reader r(bytes);
  return r.int16();
}

// Encodes `sample` at `version`: the bytes carry that version, decode to `expected` (what the
// version keeps of the sample) and encode again to themselves.
template <class T, class Encode, class Decode>
void expectRoundTrip(const T& sample, const T& expected, int16_t version, Encode encode,
                     Decode decode) {
  SCOPED_TRACE("v" + std::to_string(version));
  Bytes bytes = encode(sample, version);
  EXPECT_EQ(versionPrefix(bytes), version);
  auto decoded = decode(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
  EXPECT_EQ(*decoded, expected);
  EXPECT_EQ(encode(*decoded, version), bytes);
}

TEST(ConsumerProtocolTest, SubscriptionRoundTripsAtEveryVersion) {
  for (int16_t v = 0; v <= kSubscriptionVersion; ++v) {
    expectRoundTrip(sampleSubscription(), atVersion(sampleSubscription(), v), v, encodeSubscription,
                    decodeSubscription);
  }
  EXPECT_EQ(encodeSubscription(sampleSubscription()),
            encodeSubscription(sampleSubscription(), kSubscriptionVersion));
}

TEST(ConsumerProtocolTest, AssignmentRoundTripsAtEveryVersion) {
  for (int16_t v = 0; v <= kAssignmentVersion; ++v) {
    expectRoundTrip(sampleAssignment(), sampleAssignment(), v, encodeAssignment, decodeAssignment);
  }
  EXPECT_EQ(encodeAssignment(sampleAssignment()),
            encodeAssignment(sampleAssignment(), kAssignmentVersion));
}

TEST(ConsumerProtocolTest, NullAndEmptyUserDataStayDistinct) {
  MemberSubscription s;
  s.topics = {"t"};
  for (auto user_data : {std::optional<Bytes>(), std::optional<Bytes>(Bytes{})}) {
    s.user_data = user_data;
    auto decoded = decodeSubscription(encodeSubscription(s, 0));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->user_data, user_data);
    auto assignment = decodeAssignment(encodeAssignment({{}, user_data}, 0));
    ASSERT_TRUE(assignment.ok());
    EXPECT_EQ(assignment->user_data, user_data);
  }
}

TEST(ConsumerProtocolTest, SubscriptionV3MatchesTheSpec) {
  MemberSubscription s;
  s.topics = {"t"};
  s.owned_partitions = {{"t", {0, 5}}};
  s.generation_id = 5;
  s.rack_id = "r1";
  // Version, topics (int32 count, int16-length strings), null user data (int32 -1), owned
  // partitions (count, then topic and int32 partition array), generation, nullable rack string.
  EXPECT_EQ(encodeSubscription(s, 3), wire({{0, 3},
                                            {0, 0, 0, 1, 0, 1},
                                            "t",
                                            {0xff, 0xff, 0xff, 0xff},
                                            {0, 0, 0, 1, 0, 1},
                                            "t",
                                            {0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 5},
                                            {0, 0, 0, 5},
                                            {0, 2},
                                            "r1"}));
  s.rack_id.reset();
  Bytes null_rack = encodeSubscription(s, 3);
  EXPECT_EQ(Bytes(null_rack.end() - 2, null_rack.end()), (Bytes{0xff, 0xff}));
}

TEST(ConsumerProtocolTest, AssignmentMatchesTheSpec) {
  // Version, assigned partitions (count, topic, int32 partition array), user data bytes.
  EXPECT_EQ(encodeAssignment({{{"t", {2}}}, Bytes{7}}, 1),
            wire({{0, 1}, {0, 0, 0, 1, 0, 1}, "t", {0, 0, 0, 1, 0, 0, 0, 2}, {0, 0, 0, 1, 7}}));
}

TEST(ConsumerProtocolTest, VersionsOutsideOurRangeAreWrittenAsTheNearestKnown) {
  EXPECT_EQ(encodeSubscription(sampleSubscription(), 9),
            encodeSubscription(sampleSubscription(), 3));
  EXPECT_EQ(encodeSubscription(sampleSubscription(), -1),
            encodeSubscription(sampleSubscription(), 0));
  EXPECT_EQ(encodeAssignment(sampleAssignment(), 4), encodeAssignment(sampleAssignment(), 3));
}

// `message` relabelled as version `newer`, with fields of that version we do not know appended.
Bytes asNewerVersion(Bytes message, int16_t newer) {
  message[0] = static_cast<uint8_t>(newer >> 8);
  message[1] = static_cast<uint8_t>(newer);
  const Bytes tail = wire({{0, 0, 0, 42}, {0, 4}, "zone", {1}});
  message.insert(message.end(), tail.begin(), tail.end());
  return message;
}

// A later version may only append fields: Kafka's clients read it as their newest version and
// ignore the rest, and so do we.
TEST(ConsumerProtocolTest, NewerVersionsAreReadAsFarAsWeKnowThem) {
  for (int16_t newer : {4, 7, 0x7fff}) {
    SCOPED_TRACE("v" + std::to_string(newer));
    auto s = decodeSubscription(asNewerVersion(encodeSubscription(sampleSubscription(), 3), newer));
    ASSERT_TRUE(s.ok()) << s.error().toString();
    EXPECT_EQ(*s, sampleSubscription());
    auto a = decodeAssignment(asNewerVersion(encodeAssignment(sampleAssignment(), 3), newer));
    ASSERT_TRUE(a.ok()) << a.error().toString();
    EXPECT_EQ(*a, sampleAssignment());
  }
  // A newer version must still hold every field we know.
  Bytes short_v4 = encodeSubscription(sampleSubscription(), 2);
  short_v4[1] = 4;
  auto refused = decodeSubscription(short_v4);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("rack_id"), std::string::npos) << refused.error().message;
}

TEST(ConsumerProtocolTest, TrailingBytesAreIgnoredAsKafkasClientsDo) {
  for (int16_t v = 0; v <= 3; ++v) {
    Bytes s = encodeSubscription(sampleSubscription(), v);
    s.push_back(0);
    auto decoded = decodeSubscription(s);
    ASSERT_TRUE(decoded.ok()) << "v" << v << ": " << decoded.error().toString();
    EXPECT_EQ(decoded->topics, sampleSubscription().topics);
    Bytes a = encodeAssignment(sampleAssignment(), v);
    a.push_back(0);
    auto assignment = decodeAssignment(a);
    ASSERT_TRUE(assignment.ok()) << "v" << v;
    EXPECT_EQ(*assignment, sampleAssignment());
  }
}

TEST(ConsumerProtocolTest, AnEmptyAssignmentIsNoPartitions) {
  auto decoded = decodeAssignment({});
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, MemberAssignment{});
  // A subscription, though, always has a version.
  auto subscription = decodeSubscription({});
  ASSERT_FALSE(subscription.ok());
  EXPECT_EQ(subscription.error().code, ErrorCode::kMalformedMessage);
  EXPECT_NE(subscription.error().message.find("version"), std::string::npos);
}

TEST(ConsumerProtocolTest, EveryTruncationFailsWithAnError) {
  const Bytes subscription = encodeSubscription(sampleSubscription(), 3);
  for (size_t n = 0; n < subscription.size(); ++n) {
    auto decoded = decodeSubscription(protocol::ByteView(subscription).first(n));
    ASSERT_FALSE(decoded.ok()) << n;
    EXPECT_EQ(decoded.error().code, ErrorCode::kMalformedMessage);
  }
  const Bytes assignment = encodeAssignment(sampleAssignment(), 3);
  for (size_t n = 1; n < assignment.size(); ++n) {
    auto decoded = decodeAssignment(protocol::ByteView(assignment).first(n));
    ASSERT_FALSE(decoded.ok()) << n;
    EXPECT_EQ(decoded.error().code, ErrorCode::kMalformedMessage);
  }
}

void expectRefused(const Result<MemberSubscription>& decoded, const std::string& field) {
  ASSERT_FALSE(decoded.ok()) << "expected an error naming " << field;
  EXPECT_EQ(decoded.error().code, ErrorCode::kMalformedMessage);
  EXPECT_NE(decoded.error().message.find(field), std::string::npos) << decoded.error().message;
}

TEST(ConsumerProtocolTest, HostileLengthsAndCountsAreRefused) {
  expectRefused(decodeSubscription(wire({{0xff, 0xff}, {0, 0, 0, 0}, {0xff, 0xff, 0xff, 0xff}})),
                "version");
  expectRefused(decodeSubscription(wire({{0, 0}, {0x7f, 0xff, 0xff, 0xff}, {0, 1}, "t"})),
                "topics");
  expectRefused(decodeSubscription(wire({{0, 0}, {0xff, 0xff, 0xff, 0xfe}})), "topics");
  expectRefused(decodeSubscription(wire({{0, 0}, {0xff, 0xff, 0xff, 0xff}})), "topics");
  expectRefused(decodeSubscription(wire({{0, 0}, {0, 0, 0, 1}, {0xff, 0xfe}, "t"})), "topics[0]");
  expectRefused(decodeSubscription(wire({{0, 0}, {0, 0, 0, 1}, {0x7f, 0xff}, "t"})), "topics[0]");
  expectRefused(decodeSubscription(wire({{0, 0}, {0, 0, 0, 0}, {0x7f, 0xff, 0xff, 0xff}, {1}})),
                "user_data");
  expectRefused(decodeSubscription(wire({{0, 0}, {0, 0, 0, 0}, {0xff, 0xff, 0xff, 0xf0}})),
                "user_data");
  expectRefused(decodeSubscription(wire({{0, 1},
                                         {0, 0, 0, 0},
                                         {0xff, 0xff, 0xff, 0xff},
                                         {0, 0, 0, 1},
                                         {0, 1},
                                         "t",
                                         {0x40, 0, 0, 0},
                                         {0, 0, 0, 0}})),
                "owned_partitions[0].partitions");

  auto assignment = decodeAssignment(wire({{0, 0}, {0x7f, 0xff, 0xff, 0xff}}));
  ASSERT_FALSE(assignment.ok());
  EXPECT_EQ(assignment.error().code, ErrorCode::kMalformedMessage);
  EXPECT_NE(assignment.error().message.find("assigned_partitions"), std::string::npos)
      << assignment.error().message;
}

TEST(ConsumerProtocolTest, FlattenSortsAndGroupByTopicRegroups) {
  const std::vector<TopicPartitions> grouped = {{"b", {2, 0}}, {"a", {1}}, {"b", {0}}};
  const std::vector<TopicPartition> flat = {{"a", 1}, {"b", 0}, {"b", 2}};
  EXPECT_EQ(flatten(grouped), flat);
  EXPECT_EQ(groupByTopic({{"b", 2}, {"a", 1}, {"b", 0}, {"b", 2}}),
            (std::vector<TopicPartitions>{{"a", {1}}, {"b", {0, 2}}}));
  EXPECT_TRUE(flatten({}).empty());
  EXPECT_TRUE(groupByTopic({}).empty());
}

// Both clients offered "range" and "roundrobin" with the same subscription to topic "golden".
void expectGoldenSubscriptions(const protocol::JoinGroupRequest& join, int16_t version) {
  EXPECT_EQ(join.protocol_type, "consumer");
  ASSERT_EQ(join.protocols.size(), 2u);
  EXPECT_EQ(join.protocols[0].name, "range");
  EXPECT_EQ(join.protocols[1].name, "roundrobin");
  for (const auto& offered : join.protocols) {
    SCOPED_TRACE(offered.name);
    EXPECT_EQ(versionPrefix(offered.metadata), version);
    auto s = decodeSubscription(offered.metadata);
    ASSERT_TRUE(s.ok()) << s.error().toString();
    EXPECT_EQ(s->topics, std::vector<std::string>{"golden"});
    EXPECT_EQ(s->user_data, Bytes{});  // empty, not null
    EXPECT_TRUE(s->owned_partitions.empty());
    EXPECT_EQ(s->generation_id, -1);
    EXPECT_FALSE(s->rack_id.has_value());
    EXPECT_EQ(encodeSubscription(*s, version), offered.metadata);
  }
}

TEST(ConsumerProtocolTest, KafkaPythonSendsSubscriptionV0) {
  expectGoldenSubscriptions(
      decodeRequest<protocol::JoinGroupApi>(goldenFile("kafka_python_join_group_request_v2.hex")), 0);
}

TEST(ConsumerProtocolTest, KcatSendsSubscriptionV1) {
  expectGoldenSubscriptions(
      decodeRequest<protocol::JoinGroupApi>(goldenFile("kcat_join_group_request_v5.hex")), 1);
}

// The mock relays the members' metadata to the leader and the leader's assignment to each member:
// one member, partition 0 of "golden", written as assignment v0 with empty user data.
TEST(ConsumerProtocolTest, GoldenGroupRoundsCarryTheExpectedAssignment) {
  const MemberAssignment expected{{{"golden", {0}}}, Bytes{}};
  auto expectAssignment = [&](const Bytes& bytes, const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(versionPrefix(bytes), 0);
    auto decoded = decodeAssignment(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
    EXPECT_EQ(*decoded, expected);
    EXPECT_EQ(encodeAssignment(*decoded, 0), bytes);
  };
  for (const char* file : {"mock_sync_group_response_v1.hex", "mock_sync_group_response_v3.hex"}) {
    expectAssignment(decodeResponse<protocol::SyncGroupApi>(goldenFile(file)).assignment, file);
  }
  for (const char* file :
       {"kafka_python_sync_group_request_v1.hex", "kcat_sync_group_request_v3.hex"}) {
    auto sync = decodeRequest<protocol::SyncGroupApi>(goldenFile(file));
    ASSERT_EQ(sync.assignments.size(), 1u) << file;
    expectAssignment(sync.assignments[0].assignment, file);
  }
  for (const char* file : {"mock_join_group_response_v2.hex", "mock_join_group_response_v5.hex"}) {
    auto join = decodeResponse<protocol::JoinGroupApi>(goldenFile(file));
    ASSERT_EQ(join.members.size(), 1u) << file;
    auto s = decodeSubscription(join.members[0].metadata);
    ASSERT_TRUE(s.ok()) << file << ": " << s.error().toString();
    EXPECT_EQ(s->topics, std::vector<std::string>{"golden"}) << file;
  }
}

}  // namespace
}  // namespace kafka::group
