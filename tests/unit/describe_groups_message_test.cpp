#include <limits>

#include "client_core/protocol/messages/describe_groups.hpp"
#include "tests/unit/round_trip.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

using testing::wire;

DescribeGroupsRequest sampleRequest() {
  DescribeGroupsRequest r;
  r.groups = {"orders", "audit"};
  r.include_authorized_operations = true;
  return r;
}

DescribeGroupsResponse sampleResponse() {
  DescribeGroupsResponse r;
  r.throttle_time_ms = 15;
  DescribeGroupsResponse::DescribedGroup orders;
  orders.error_code = 0;
  orders.group_id = "orders";
  orders.group_state = "Stable";
  orders.protocol_type = "consumer";
  orders.protocol_data = "range";
  orders.members = {{"consumer-1-7f3a", "pod-3", "sidecar", "/10.0.0.7", {0, 1, 2}, {3, 4}, {}},
                    {"consumer-2-9c01", std::nullopt, "sidecar", "/10.0.0.8", {5}, {}, {}}};
  orders.authorized_operations = 0x0f8;
  DescribeGroupsResponse::DescribedGroup missing;
  missing.error_code = 69;  // GROUP_ID_NOT_FOUND
  missing.error_message = "group audit is not known";
  missing.group_id = "audit";
  missing.group_state = "Dead";
  r.groups = {orders, missing};
  return r;
}

TEST(DescribeGroupsMessageTest, RoundTripsAtEveryVersion) {
  testing::expectRoundTripAllVersions<DescribeGroupsApi>(sampleRequest(), sampleResponse());
}

TEST(DescribeGroupsMessageTest, DefaultsFollowTheSchema) {
  EXPECT_EQ(DescribeGroupsResponse::DescribedGroup{}.authorized_operations,
            std::numeric_limits<int32_t>::min());
  EXPECT_EQ(DescribeGroupsResponse::DescribedGroup{}.error_message, std::nullopt);
}

TEST(DescribeGroupsMessageTest, TruncatedResponsesFail) {
  for (int16_t v : {0, 3, 4, 5, 6}) {
    testing::expectTruncationsFail<DescribeGroupsApi>(sampleResponse(), v);
  }
}

TEST(DescribeGroupsMessageTest, ClassicVersionsMatchTheSpec) {
  DescribeGroupsRequest request;
  request.groups = {"g"};
  testing::expectWireBytes<DescribeGroupsApi>(request, 0, wire({{0, 0, 0, 1}, {0, 1}, "g"}));
  request.include_authorized_operations = true;
  testing::expectWireBytes<DescribeGroupsApi>(request, 3, wire({{0, 0, 0, 1}, {0, 1}, "g", {1}}));

  DescribeGroupsResponse response;
  DescribeGroupsResponse::DescribedGroup group;
  group.group_id = "g";
  group.group_state = "Stable";
  group.protocol_type = "consumer";
  group.protocol_data = "range";
  group.members = {{"m", std::nullopt, "c", "/h", {1}, {2}, {}}};
  response.groups = {group};
  // v0: per group error, id, state, protocol type and name, then members with int32-length bytes.
  testing::expectWireBytes<DescribeGroupsApi>(response, 0,
                                              wire({{0, 0, 0, 1},
                                                    {0, 0},
                                                    {0, 1},
                                                    "g",
                                                    {0, 6},
                                                    "Stable",
                                                    {0, 8},
                                                    "consumer",
                                                    {0, 5},
                                                    "range",
                                                    {0, 0, 0, 1},
                                                    {0, 1},
                                                    "m",
                                                    {0, 1},
                                                    "c",
                                                    {0, 2},
                                                    "/h",
                                                    {0, 0, 0, 1, 1},
                                                    {0, 0, 0, 1, 2}}));
  // v4: throttle time; a member's instance id (null) after its id; operations after the members.
  response.groups[0].authorized_operations = 8;
  testing::expectWireBytes<DescribeGroupsApi>(
      response, 4, wire({{0, 0, 0, 0},    {0, 0, 0, 1}, {0, 0}, {0, 1},     "g",
                         {0, 6},          "Stable",     {0, 8}, "consumer", {0, 5},
                         "range",         {0, 0, 0, 1}, {0, 1}, "m",        {0xff, 0xff},
                         {0, 1},          "c",          {0, 2}, "/h",       {0, 0, 0, 1, 1},
                         {0, 0, 0, 1, 2}, {0, 0, 0, 8}}));
}

TEST(DescribeGroupsMessageTest, FlexibleVersionsMatchTheSpec) {
  DescribeGroupsRequest request;
  request.groups = {"g"};
  request.include_authorized_operations = true;
  testing::expectWireBytes<DescribeGroupsApi>(request, 5, wire({{2}, {2}, "g", {1}, {0}}));

  // v6: an unknown group (GROUP_ID_NOT_FOUND = 69) with its message after the error code, and
  // operations left at INT32_MIN.
  DescribeGroupsResponse response;
  DescribeGroupsResponse::DescribedGroup group;
  group.error_code = 69;
  group.error_message = "x";
  group.group_id = "g";
  group.group_state = "Dead";
  response.groups = {group};
  testing::expectWireBytes<DescribeGroupsApi>(response, 6,
                                              wire({{0, 0, 0, 0},
                                                    {2},
                                                    {0, 69},
                                                    {2},
                                                    "x",
                                                    {2},
                                                    "g",
                                                    {5},
                                                    "Dead",
                                                    {1},
                                                    {1},
                                                    {1},
                                                    {0x80, 0, 0, 0},
                                                    {0},
                                                    {0}}));
}

TEST(DescribeGroupsMessageTest, FieldsStartAtTheirFirstVersion) {
  DescribeGroupsResponse response;
  response.throttle_time_ms = 2;
  DescribeGroupsResponse::DescribedGroup group;
  group.group_id = "g";
  group.members = {{"m", std::nullopt, "c", "h", {}, {}, {}}};
  response.groups = {group};
  const Bytes through_members = wire({{0, 0, 0, 1},
                                      {0, 0},
                                      {0, 1},
                                      "g",
                                      {0, 0},
                                      {0, 0},
                                      {0, 0},
                                      {0, 0, 0, 1},
                                      {0, 1},
                                      "m",
                                      {0, 1},
                                      "c",
                                      {0, 1},
                                      "h",
                                      {0, 0, 0, 0},
                                      {0, 0, 0, 0}});
  // v1: throttle time, no authorized operations yet; v3: operations (INT32_MIN) after members.
  testing::expectWireBytes<DescribeGroupsApi>(response, 1, wire({{0, 0, 0, 2}, through_members}));
  testing::expectWireBytes<DescribeGroupsApi>(
      response, 3, wire({{0, 0, 0, 2}, through_members, {0x80, 0, 0, 0}}));
  // v5: flexible, with the member instance id (null) but no error message yet.
  testing::expectWireBytes<DescribeGroupsApi>(
      response, 5, wire({{0, 0, 0, 2}, {2}, {0, 0}, {2}, "g", {1}, {1}, {1}, {2}, {2},
                         "m",          {0}, {2},    "c", {2}, "h", {1}, {1}, {0}, {0x80, 0, 0, 0},
                         {0},          {0}}));
}

TEST(DescribeGroupsMessageTest, VersionTwoMatchesTheSpec) {
  // v2 is the v1 layout: no operations flag in requests, no operations in responses.
  DescribeGroupsRequest request;
  request.groups = {"g"};
  testing::expectWireBytes<DescribeGroupsApi>(request, 2, wire({{0, 0, 0, 1}, {0, 1}, "g"}));

  DescribeGroupsResponse response;
  response.throttle_time_ms = 2;
  DescribeGroupsResponse::DescribedGroup group;
  group.group_id = "g";
  response.groups = {group};
  testing::expectWireBytes<DescribeGroupsApi>(
      response, 2,
      wire(
          {{0, 0, 0, 2}, {0, 0, 0, 1}, {0, 0}, {0, 1}, "g", {0, 0}, {0, 0}, {0, 0}, {0, 0, 0, 0}}));
}

}  // namespace
}  // namespace kafka::protocol
