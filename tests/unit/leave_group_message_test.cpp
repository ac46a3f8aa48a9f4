#include "client_core/protocol/messages/leave_group.hpp"
#include "tests/unit/round_trip.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

using testing::wire;

// v0-2 name one member at the top level.
LeaveGroupRequest singleMemberRequest() {
  LeaveGroupRequest r;
  r.group_id = "orders";
  r.member_id = "consumer-1-7f3a";
  return r;
}

LeaveGroupResponse singleMemberResponse() {
  LeaveGroupResponse r;
  r.throttle_time_ms = 5;
  r.error_code = 25;  // UNKNOWN_MEMBER_ID
  return r;
}

// v3+ name a batch of members.
LeaveGroupRequest batchRequest() {
  LeaveGroupRequest r;
  r.group_id = "orders";
  r.members = {{"consumer-1-7f3a", "pod-3", "shutting down", {}},
               {"consumer-2-9c01", std::nullopt, std::nullopt, {}}};
  return r;
}

LeaveGroupResponse batchResponse() {
  LeaveGroupResponse r;
  r.throttle_time_ms = 5;
  r.error_code = 16;
  r.members = {{"consumer-1-7f3a", "pod-3", 0, {}}, {"consumer-2-9c01", std::nullopt, 25, {}}};
  return r;
}

TEST(LeaveGroupMessageTest, RoundTripsAtEveryVersion) {
  testing::expectRoundTripAllVersions<LeaveGroupApi>(batchRequest(), batchResponse());
  testing::expectRoundTripAllVersions<testing::VersionRange<LeaveGroupApi, 0, 2>>(
      singleMemberRequest(), singleMemberResponse());
}

TEST(LeaveGroupMessageTest, TruncatedResponsesFail) {
  for (int16_t v : {0, 1, 3, 4, 5}) {
    testing::expectTruncationsFail<LeaveGroupApi>(batchResponse(), v);
  }
}

TEST(LeaveGroupMessageTest, ClassicVersionsMatchTheSpec) {
  LeaveGroupRequest request;
  request.group_id = "g";
  request.member_id = "m";
  testing::expectWireBytes<LeaveGroupApi>(request, 0, wire({{0, 1}, "g", {0, 1}, "m"}));

  // v3 drops the single member id for an int32-counted array of member identities.
  request.member_id.clear();
  request.members = {{"m", "i", std::nullopt, {}}};
  testing::expectWireBytes<LeaveGroupApi>(
      request, 3, wire({{0, 1}, "g", {0, 0, 0, 1}, {0, 1}, "m", {0, 1}, "i"}));

  LeaveGroupResponse response;
  response.members = {{"m", std::nullopt, 25, {}}};
  testing::expectWireBytes<LeaveGroupApi>(
      response, 3, wire({{0, 0, 0, 0}, {0, 0}, {0, 0, 0, 1}, {0, 1}, "m", {0xff, 0xff}, {0, 25}}));
}

TEST(LeaveGroupMessageTest, FlexibleVersionsMatchTheSpec) {
  LeaveGroupRequest request;
  request.group_id = "g";
  request.members = {{"m", std::nullopt, "r", {}}};
  // v5: compact array of one (2), null instance id (0), the reason, member tags, body tags.
  testing::expectWireBytes<LeaveGroupApi>(request, 5,
                                          wire({{2}, "g", {2}, {2}, "m", {0}, {2}, "r", {0}, {0}}));

  LeaveGroupResponse response;
  response.members = {{"m", std::nullopt, 25, {}}};
  testing::expectWireBytes<LeaveGroupApi>(
      response, 4, wire({{0, 0, 0, 0}, {0, 0}, {2}, {2}, "m", {0}, {0, 25}, {0}, {0}}));
}

TEST(LeaveGroupMessageTest, FieldsStartAtTheirFirstVersion) {
  LeaveGroupRequest request;
  request.group_id = "g";
  request.member_id = "m";
  testing::expectWireBytes<LeaveGroupApi>(request, 2, wire({{0, 1}, "g", {0, 1}, "m"}));
  // v4: flexible, without the reason of v5.
  request.member_id.clear();
  request.members = {{"m", "i", std::nullopt, {}}};
  testing::expectWireBytes<LeaveGroupApi>(request, 4,
                                          wire({{2}, "g", {2}, {2}, "m", {2}, "i", {0}, {0}}));

  LeaveGroupResponse response;
  response.error_code = 25;
  testing::expectWireBytes<LeaveGroupApi>(response, 0, Bytes{0, 25});
  response.throttle_time_ms = 1;
  testing::expectWireBytes<LeaveGroupApi>(response, 1, Bytes{0, 0, 0, 1, 0, 25});
  testing::expectWireBytes<LeaveGroupApi>(response, 2, Bytes{0, 0, 0, 1, 0, 25});
  testing::expectWireBytes<LeaveGroupApi>(response, 5, Bytes{0, 0, 0, 1, 0, 25, 1, 0});
}

TEST(LeaveGroupMessageTest, NullInstanceIdMatchesTheSpec) {
  LeaveGroupRequest request;
  request.group_id = "g";
  request.members = {{"m", std::nullopt, std::nullopt, {}}};
  testing::expectWireBytes<LeaveGroupApi>(
      request, 3, wire({{0, 1}, "g", {0, 0, 0, 1}, {0, 1}, "m", {0xff, 0xff}}));
}

}  // namespace
}  // namespace kafka::protocol
