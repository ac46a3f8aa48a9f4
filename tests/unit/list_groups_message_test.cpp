#include "client_core/protocol/messages/list_groups.hpp"
#include "tests/unit/round_trip.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

using testing::wire;

ListGroupsRequest sampleRequest() {
  ListGroupsRequest r;
  r.states_filter = {"Stable", "Empty"};
  r.types_filter = {"classic"};
  return r;
}

ListGroupsResponse sampleResponse() {
  ListGroupsResponse r;
  r.throttle_time_ms = 8;
  r.error_code = 14;  // COORDINATOR_LOAD_IN_PROGRESS
  r.groups = {{"orders", "consumer", "Stable", "classic", {}},
              {"connect-s3", "connect", "Empty", "classic", {}}};
  return r;
}

TEST(ListGroupsMessageTest, RoundTripsAtEveryVersion) {
  testing::expectRoundTripAllVersions<ListGroupsApi>(sampleRequest(), sampleResponse());
}

TEST(ListGroupsMessageTest, TruncatedResponsesFail) {
  for (int16_t v : {0, 1, 3, 4, 5}) {
    testing::expectTruncationsFail<ListGroupsApi>(sampleResponse(), v);
  }
}

TEST(ListGroupsMessageTest, ClassicVersionsMatchTheSpec) {
  // v0-2 requests have no fields at all.
  testing::expectWireBytes<ListGroupsApi>(ListGroupsRequest{}, 0, Bytes{});

  ListGroupsResponse response;
  response.groups = {{"g", "consumer", "", "", {}}};
  testing::expectWireBytes<ListGroupsApi>(
      response, 0, wire({{0, 0}, {0, 0, 0, 1}, {0, 1}, "g", {0, 8}, "consumer"}));
  response.throttle_time_ms = 3;
  testing::expectWireBytes<ListGroupsApi>(
      response, 2, wire({{0, 0, 0, 3}, {0, 0}, {0, 0, 0, 1}, {0, 1}, "g", {0, 8}, "consumer"}));
}

TEST(ListGroupsMessageTest, FlexibleVersionsMatchTheSpec) {
  // v3: only the tag count.
  testing::expectWireBytes<ListGroupsApi>(ListGroupsRequest{}, 3, Bytes{0});
  ListGroupsRequest request;
  request.states_filter = {"Stable"};
  request.types_filter = {"classic"};
  testing::expectWireBytes<ListGroupsApi>(request, 5,
                                          wire({{2, 7}, "Stable", {2, 8}, "classic", {0}}));

  ListGroupsResponse response;
  response.groups = {{"g", "consumer", "Stable", "classic", {}}};
  testing::expectWireBytes<ListGroupsApi>(response, 5,
                                          wire({{0, 0, 0, 0},
                                                {0, 0},
                                                {2},
                                                {2},
                                                "g",
                                                {9},
                                                "consumer",
                                                {7},
                                                "Stable",
                                                {8},
                                                "classic",
                                                {0},
                                                {0}}));
}

TEST(ListGroupsMessageTest, FieldsStartAtTheirFirstVersion) {
  ListGroupsRequest request;
  request.states_filter = {"Empty"};
  testing::expectWireBytes<ListGroupsApi>(request, 4, wire({{2, 6}, "Empty", {0}}));

  ListGroupsResponse response;
  response.throttle_time_ms = 3;
  response.groups = {{"g", "c", "", "", {}}};
  testing::expectWireBytes<ListGroupsApi>(
      response, 1, wire({{0, 0, 0, 3}, {0, 0}, {0, 0, 0, 1}, {0, 1}, "g", {0, 1}, "c"}));
  testing::expectWireBytes<ListGroupsApi>(
      response, 3, wire({{0, 0, 0, 3}, {0, 0}, {2}, {2}, "g", {2}, "c", {0}, {0}}));
  // v4 adds the state, v5 the type.
  response.groups[0].group_state = "Empty";
  testing::expectWireBytes<ListGroupsApi>(
      response, 4, wire({{0, 0, 0, 3}, {0, 0}, {2}, {2}, "g", {2}, "c", {6}, "Empty", {0}, {0}}));
}

}  // namespace
}  // namespace kafka::protocol
