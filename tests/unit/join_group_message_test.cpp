#include "client_core/protocol/messages/join_group.hpp"
#include "tests/unit/round_trip.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

using testing::wire;

JoinGroupRequest sampleRequest() {
  JoinGroupRequest r;
  r.group_id = "orders";
  r.session_timeout_ms = 45000;
  r.rebalance_timeout_ms = 300000;
  r.member_id = "consumer-1-7f3a";
  r.group_instance_id = "pod-3";
  r.protocol_type = "consumer";
  r.protocols = {{"cooperative-sticky", {0, 3, 0, 0, 0, 1}, {}}, {"range", {0, 1}, {}}};
  r.reason = "rebalance requested";
  return r;
}

JoinGroupResponse sampleResponse() {
  JoinGroupResponse r;
  r.throttle_time_ms = 10;
  r.error_code = 79;  // MEMBER_ID_REQUIRED
  r.generation_id = 8;
  r.protocol_type = "consumer";
  r.protocol_name = "range";
  r.leader = "consumer-1-7f3a";
  r.skip_assignment = true;
  r.member_id = "consumer-2-9c01";
  r.members = {{"consumer-1-7f3a", "pod-3", {0, 1, 2}, {}},
               {"consumer-2-9c01", std::nullopt, {3}, {}}};
  return r;
}

TEST(JoinGroupMessageTest, RoundTripsAtEveryVersion) {
  testing::expectRoundTripAllVersions<JoinGroupApi>(sampleRequest(), sampleResponse());
}

TEST(JoinGroupMessageTest, DefaultsFollowTheSchema) {
  EXPECT_EQ(JoinGroupRequest{}.rebalance_timeout_ms, -1);
  EXPECT_EQ(JoinGroupResponse{}.generation_id, -1);
  EXPECT_EQ(JoinGroupResponse{}.protocol_type, std::nullopt);
  EXPECT_EQ(JoinGroupResponse{}.protocol_name, std::optional<std::string>(""));
}

TEST(JoinGroupMessageTest, TruncatedResponsesFail) {
  for (int16_t v : {0, 2, 5, 6, 7, 9}) {
    testing::expectTruncationsFail<JoinGroupApi>(sampleResponse(), v);
  }
}

TEST(JoinGroupMessageTest, ClassicVersionsMatchTheSpec) {
  JoinGroupRequest request;
  request.group_id = "g";
  request.session_timeout_ms = 30000;  // 0x7530
  request.protocol_type = "consumer";
  request.protocols = {{"range", {0, 1}, {}}};
  // v0 has no rebalance timeout; the first join has an empty member id.
  testing::expectWireBytes<JoinGroupApi>(request, 0,
                                         wire({{0, 1},
                                               "g",
                                               {0, 0, 0x75, 0x30},
                                               {0, 0},
                                               {0, 8},
                                               "consumer",
                                               {0, 0, 0, 1},
                                               {0, 5},
                                               "range",
                                               {0, 0, 0, 2, 0, 1}}));
  // v1 puts the rebalance timeout (60000 = 0xea60) between session timeout and member id.
  request.rebalance_timeout_ms = 60000;
  testing::expectWireBytes<JoinGroupApi>(request, 1,
                                         wire({{0, 1},
                                               "g",
                                               {0, 0, 0x75, 0x30},
                                               {0, 0, 0xea, 0x60},
                                               {0, 0},
                                               {0, 8},
                                               "consumer",
                                               {0, 0, 0, 1},
                                               {0, 5},
                                               "range",
                                               {0, 0, 0, 2, 0, 1}}));

  JoinGroupResponse response;
  response.generation_id = 1;
  response.protocol_name = "range";
  response.leader = "m";
  response.member_id = "m";
  response.members = {{"m", std::nullopt, {7}, {}}};
  testing::expectWireBytes<JoinGroupApi>(response, 0,
                                         wire({{0, 0},
                                               {0, 0, 0, 1},
                                               {0, 5},
                                               "range",
                                               {0, 1},
                                               "m",
                                               {0, 1},
                                               "m",
                                               {0, 0, 0, 1},
                                               {0, 1},
                                               "m",
                                               {0, 0, 0, 1, 7}}));
}

TEST(JoinGroupMessageTest, FlexibleVersionsMatchTheSpec) {
  JoinGroupRequest request;
  request.group_id = "g";
  request.session_timeout_ms = 30000;
  request.rebalance_timeout_ms = 60000;
  request.member_id = "m";
  request.protocol_type = "consumer";
  request.protocols = {{"range", {}, {}}};
  // v6: null instance id (0), compact array of one (2), empty compact bytes (1), tag counts.
  testing::expectWireBytes<JoinGroupApi>(request, 6,
                                         wire({{2},
                                               "g",
                                               {0, 0, 0x75, 0x30},
                                               {0, 0, 0xea, 0x60},
                                               {2},
                                               "m",
                                               {0},
                                               {9},
                                               "consumer",
                                               {2},
                                               {6},
                                               "range",
                                               {1},
                                               {0},
                                               {0}}));

  // v7: an answer to a first join (MEMBER_ID_REQUIRED = 79) with null protocol type and name.
  JoinGroupResponse response;
  response.error_code = 79;
  response.protocol_name.reset();
  response.member_id = "m";
  testing::expectWireBytes<JoinGroupApi>(
      response, 7,
      wire({{0, 0, 0, 0}, {0, 79}, {0xff, 0xff, 0xff, 0xff}, {0}, {0}, {1}, {2}, "m", {1}, {0}}));
  // v9 adds skip_assignment between leader and member id.
  response.skip_assignment = true;
  testing::expectWireBytes<JoinGroupApi>(response, 9,
                                         wire({{0, 0, 0, 0},
                                               {0, 79},
                                               {0xff, 0xff, 0xff, 0xff},
                                               {0},
                                               {0},
                                               {1},
                                               {1},
                                               {2},
                                               "m",
                                               {1},
                                               {0}}));
}

TEST(JoinGroupMessageTest, FieldsStartAtTheirFirstVersion) {
  JoinGroupRequest request;
  request.group_id = "g";
  request.session_timeout_ms = 30000;
  request.rebalance_timeout_ms = 60000;
  request.member_id = "m";
  request.protocol_type = "consumer";
  // v4: no instance id yet; an empty protocol array.
  testing::expectWireBytes<JoinGroupApi>(request, 4,
                                         wire({{0, 1},
                                               "g",
                                               {0, 0, 0x75, 0x30},
                                               {0, 0, 0xea, 0x60},
                                               {0, 1},
                                               "m",
                                               {0, 8},
                                               "consumer",
                                               {0, 0, 0, 0}}));
  // v5: the instance id follows the member id.
  request.group_instance_id = "i";
  testing::expectWireBytes<JoinGroupApi>(request, 5,
                                         wire({{0, 1},
                                               "g",
                                               {0, 0, 0x75, 0x30},
                                               {0, 0, 0xea, 0x60},
                                               {0, 1},
                                               "m",
                                               {0, 1},
                                               "i",
                                               {0, 8},
                                               "consumer",
                                               {0, 0, 0, 0}}));
  // v7: flexible, no reason yet; v8 adds the reason (null) after the protocols.
  testing::expectWireBytes<JoinGroupApi>(request, 7,
                                         wire({{2},
                                               "g",
                                               {0, 0, 0x75, 0x30},
                                               {0, 0, 0xea, 0x60},
                                               {2},
                                               "m",
                                               {2},
                                               "i",
                                               {9},
                                               "consumer",
                                               {1},
                                               {0}}));
  testing::expectWireBytes<JoinGroupApi>(request, 8,
                                         wire({{2},
                                               "g",
                                               {0, 0, 0x75, 0x30},
                                               {0, 0, 0xea, 0x60},
                                               {2},
                                               "m",
                                               {2},
                                               "i",
                                               {9},
                                               "consumer",
                                               {1},
                                               {0},
                                               {0}}));

  JoinGroupResponse response;
  response.generation_id = 1;
  response.protocol_name = "r";
  response.leader = "m";
  response.member_id = "m";
  response.members = {{"m", std::nullopt, {}, {}}};
  // v1 is the v0 layout; v2 starts with the throttle time.
  const Bytes v1 = wire({{0, 0},
                         {0, 0, 0, 1},
                         {0, 1},
                         "r",
                         {0, 1},
                         "m",
                         {0, 1},
                         "m",
                         {0, 0, 0, 1},
                         {0, 1},
                         "m",
                         {0, 0, 0, 0}});
  testing::expectWireBytes<JoinGroupApi>(response, 1, v1);
  testing::expectWireBytes<JoinGroupApi>(response, 2, wire({{0, 0, 0, 0}, v1}));
  // v5: a member's instance id sits between its id and its metadata.
  response.members[0].group_instance_id = "i";
  testing::expectWireBytes<JoinGroupApi>(response, 5,
                                         wire({{0, 0, 0, 0},
                                               {0, 0},
                                               {0, 0, 0, 1},
                                               {0, 1},
                                               "r",
                                               {0, 1},
                                               "m",
                                               {0, 1},
                                               "m",
                                               {0, 0, 0, 1},
                                               {0, 1},
                                               "m",
                                               {0, 1},
                                               "i",
                                               {0, 0, 0, 0}}));
  // v6: flexible, still without the protocol type.
  testing::expectWireBytes<JoinGroupApi>(response, 6,
                                         wire({{0, 0, 0, 0},
                                               {0, 0},
                                               {0, 0, 0, 1},
                                               {2},
                                               "r",
                                               {2},
                                               "m",
                                               {2},
                                               "m",
                                               {2},
                                               {2},
                                               "m",
                                               {2},
                                               "i",
                                               {1},
                                               {0},
                                               {0}}));
}

TEST(JoinGroupMessageTest, NullableVersionsMatchTheSpec) {
  JoinGroupRequest request;
  request.group_id = "g";
  request.session_timeout_ms = 30000;
  request.rebalance_timeout_ms = 60000;
  request.member_id = "m";
  request.protocol_type = "consumer";
  // v5: a null instance id is the int16 length -1.
  testing::expectWireBytes<JoinGroupApi>(request, 5,
                                         wire({{0, 1},
                                               "g",
                                               {0, 0, 0x75, 0x30},
                                               {0, 0, 0xea, 0x60},
                                               {0, 1},
                                               "m",
                                               {0xff, 0xff},
                                               {0, 8},
                                               "consumer",
                                               {0, 0, 0, 0}}));

  JoinGroupResponse response;
  response.generation_id = 1;
  response.protocol_name = "r";
  response.leader = "m";
  response.member_id = "m";
  response.members = {{"m", std::nullopt, {}, {}}};
  const Bytes tail = wire({{0, 1}, "m", {0, 1}, "m", {0, 0, 0, 1}, {0, 1}, "m"});
  // v4: members have no instance id; v5: a null one.
  testing::expectWireBytes<JoinGroupApi>(
      response, 4, wire({{0, 0, 0, 0}, {0, 0}, {0, 0, 0, 1}, {0, 1}, "r", tail, {0, 0, 0, 0}}));
  testing::expectWireBytes<JoinGroupApi>(
      response, 5,
      wire({{0, 0, 0, 0}, {0, 0}, {0, 0, 0, 1}, {0, 1}, "r", tail, {0xff, 0xff}, {0, 0, 0, 0}}));
  // v8: still no skip_assignment.
  response.members.clear();
  testing::expectWireBytes<JoinGroupApi>(
      response, 8,
      wire({{0, 0, 0, 0}, {0, 0}, {0, 0, 0, 1}, {0}, {2}, "r", {2}, "m", {2}, "m", {1}, {0}}));

  // Before v7 the protocol name cannot be null on the wire; a null one is written as empty.
  response.protocol_name.reset();
  Bytes encoded;
  Writer w(encoded);
  encodeMessage(w, response, SchemaContext{6, true});
  EXPECT_EQ(encoded, wire({{0, 0, 0, 0}, {0, 0}, {0, 0, 0, 1}, {1}, {2}, "m", {2}, "m", {1}, {0}}));
}

// librdkafka's mock writes null strings where the schema has none (an error answer carries no
// leader, member id or protocol); they read as empty, so the error code is not lost.
TEST(JoinGroupMessageTest, NullStringsOfAnErrorAnswerReadAsEmpty) {
  const Bytes frame = wire({{0, 0, 0, 7},              // correlation id
                            {0, 0, 0, 0},              // throttle_time_ms
                            {0, 27},                   // REBALANCE_IN_PROGRESS
                            {0xff, 0xff, 0xff, 0xff},  // generation_id
                            {0xff, 0xff},              // protocol_name: null
                            {0xff, 0xff},              // leader: null
                            {0xff, 0xff},              // member_id: null
                            {0, 0, 0, 0}});            // members
  auto decoded = decodeResponseFrame<JoinGroupApi>(frame, 5);
  ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
  EXPECT_EQ(decoded->error_code, 27);
  EXPECT_EQ(decoded->protocol_name, std::string());
  EXPECT_EQ(decoded->leader, "");
  EXPECT_EQ(decoded->member_id, "");
}

}  // namespace
}  // namespace kafka::protocol
