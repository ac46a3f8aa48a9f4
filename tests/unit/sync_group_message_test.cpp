#include "client_core/protocol/messages/sync_group.hpp"
#include "tests/unit/round_trip.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

using testing::wire;

SyncGroupRequest sampleRequest() {
  SyncGroupRequest r;
  r.group_id = "orders";
  r.generation_id = 4;
  r.member_id = "consumer-1-7f3a";
  r.group_instance_id = "pod-3";
  r.protocol_type = "consumer";
  r.protocol_name = "cooperative-sticky";
  r.assignments = {{"consumer-1-7f3a", {0, 1, 0, 0, 0, 1}, {}}, {"consumer-2-9c01", {0, 1}, {}}};
  return r;
}

SyncGroupResponse sampleResponse() {
  SyncGroupResponse r;
  r.throttle_time_ms = 30;
  r.error_code = 27;
  r.protocol_type = "consumer";
  r.protocol_name = "range";
  r.assignment = {0, 1, 0, 0, 0, 1, 0, 6, 'o', 'r', 'd', 'e', 'r', 's'};
  return r;
}

TEST(SyncGroupMessageTest, RoundTripsAtEveryVersion) {
  testing::expectRoundTripAllVersions<SyncGroupApi>(sampleRequest(), sampleResponse());
}

TEST(SyncGroupMessageTest, TruncatedResponsesFail) {
  for (int16_t v : {0, 3, 4, 5}) testing::expectTruncationsFail<SyncGroupApi>(sampleResponse(), v);
}

TEST(SyncGroupMessageTest, ClassicVersionsMatchTheSpec) {
  SyncGroupRequest request;
  request.group_id = "g";
  request.generation_id = 1;
  request.member_id = "m";
  request.assignments = {{"m", {1, 2}, {}}};
  // v3: group, generation, member, null instance id (int16 -1), int32 array count, then per
  // assignment its member and int32-length bytes.
  testing::expectWireBytes<SyncGroupApi>(request, 3,
                                         wire({{0, 1},
                                               "g",
                                               {0, 0, 0, 1},
                                               {0, 1},
                                               "m",
                                               {0xff, 0xff},
                                               {0, 0, 0, 1},
                                               {0, 1},
                                               "m",
                                               {0, 0, 0, 2, 1, 2}}));

  SyncGroupResponse response;
  response.error_code = 25;
  testing::expectWireBytes<SyncGroupApi>(response, 0, Bytes{0, 25, 0, 0, 0, 0});
}

TEST(SyncGroupMessageTest, FlexibleVersionMatchesTheSpec) {
  SyncGroupRequest request;
  request.group_id = "g";
  request.generation_id = 1;
  request.member_id = "m";
  request.protocol_type = "consumer";
  request.assignments = {{"m", {}, {}}};
  // v5: instance id and protocol name null (0), compact array count + 1, empty compact bytes (1),
  // a tag count after the assignment and after the body.
  testing::expectWireBytes<SyncGroupApi>(request, 5,
                                         wire({{2},
                                               "g",
                                               {0, 0, 0, 1},
                                               {2},
                                               "m",
                                               {0},
                                               {9},
                                               "consumer",
                                               {0},
                                               {2},
                                               {2},
                                               "m",
                                               {1},
                                               {0},
                                               {0}}));

  SyncGroupResponse response;
  response.protocol_type = "consumer";
  response.protocol_name = "range";
  response.assignment = {0xab};
  testing::expectWireBytes<SyncGroupApi>(
      response, 5, wire({{0, 0, 0, 0}, {0, 0}, {9}, "consumer", {6}, "range", {2, 0xab}, {0}}));
}

TEST(SyncGroupMessageTest, FieldsStartAtTheirFirstVersion) {
  SyncGroupRequest request;
  request.group_id = "g";
  request.generation_id = 1;
  request.member_id = "m";
  request.assignments = {{"m", {}, {}}};
  // v2: no instance id yet.
  testing::expectWireBytes<SyncGroupApi>(
      request, 2,
      wire({{0, 1}, "g", {0, 0, 0, 1}, {0, 1}, "m", {0, 0, 0, 1}, {0, 1}, "m", {0, 0, 0, 0}}));
  // v4: flexible, with the instance id (null) but no protocol type or name yet.
  testing::expectWireBytes<SyncGroupApi>(
      request, 4, wire({{2}, "g", {0, 0, 0, 1}, {2}, "m", {0}, {2}, {2}, "m", {1}, {0}, {0}}));

  SyncGroupResponse response;
  response.throttle_time_ms = 7;
  response.assignment = {9};
  testing::expectWireBytes<SyncGroupApi>(response, 1, Bytes{0, 0, 0, 7, 0, 0, 0, 0, 0, 1, 9});
  testing::expectWireBytes<SyncGroupApi>(response, 4, Bytes{0, 0, 0, 7, 0, 0, 2, 9, 0});
}

TEST(SyncGroupMessageTest, FirstAndNullableVersionsMatchTheSpec) {
  SyncGroupRequest request;
  request.group_id = "g";
  request.generation_id = 1;
  request.member_id = "m";
  request.assignments = {{"m", {3}, {}}};
  testing::expectWireBytes<SyncGroupApi>(
      request, 0,
      wire({{0, 1}, "g", {0, 0, 0, 1}, {0, 1}, "m", {0, 0, 0, 1}, {0, 1}, "m", {0, 0, 0, 1, 3}}));
  // v5 with a null protocol type and a named protocol.
  request.protocol_name = "range";
  testing::expectWireBytes<SyncGroupApi>(request, 5,
                                         wire({{2},
                                               "g",
                                               {0, 0, 0, 1},
                                               {2},
                                               "m",
                                               {0},
                                               {0},
                                               {6},
                                               "range",
                                               {2},
                                               {2},
                                               "m",
                                               {2, 3},
                                               {0},
                                               {0}}));

  SyncGroupResponse response;
  response.assignment = {3};
  testing::expectWireBytes<SyncGroupApi>(response, 5, Bytes{0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 0});
}

// librdkafka's mock answers an error with null assignment bytes; they read as empty.
TEST(SyncGroupMessageTest, NullAssignmentOfAnErrorAnswerReadsAsEmpty) {
  const Bytes frame = wire({{0, 0, 0, 7},                // correlation id
                            {0, 0, 0, 0},                // throttle_time_ms
                            {0, 42},                     // INVALID_REQUEST
                            {0xff, 0xff, 0xff, 0xff}});  // assignment: null
  auto decoded = decodeResponseFrame<SyncGroupApi>(frame, 3);
  ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
  EXPECT_EQ(decoded->error_code, 42);
  EXPECT_TRUE(decoded->assignment.empty());
}

}  // namespace
}  // namespace kafka::protocol
