#include "client_core/protocol/messages/heartbeat.hpp"
#include "tests/unit/round_trip.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

using testing::wire;

HeartbeatRequest sampleRequest() {
  HeartbeatRequest r;
  r.group_id = "orders";
  r.generation_id = 12;
  r.member_id = "consumer-1-7f3a";
  r.group_instance_id = "pod-3";
  return r;
}

HeartbeatResponse sampleResponse() {
  HeartbeatResponse r;
  r.throttle_time_ms = 250;
  r.error_code = 27;  // REBALANCE_IN_PROGRESS
  return r;
}

TEST(HeartbeatMessageTest, RoundTripsAtEveryVersion) {
  testing::expectRoundTripAllVersions<HeartbeatApi>(sampleRequest(), sampleResponse());
}

TEST(HeartbeatMessageTest, TruncatedResponsesFail) {
  for (int16_t v : {0, 1, 3, 4}) testing::expectTruncationsFail<HeartbeatApi>(sampleResponse(), v);
}

TEST(HeartbeatMessageTest, ClassicVersionsMatchTheSpec) {
  HeartbeatRequest request;
  request.group_id = "g";
  request.generation_id = 5;
  request.member_id = "m";
  // v0: int16-length strings and the int32 generation; no instance id yet.
  testing::expectWireBytes<HeartbeatApi>(request, 0,
                                         wire({{0, 1}, "g", {0, 0, 0, 5}, {0, 1}, "m"}));
  // v3 adds the nullable instance id, here null (int16 -1).
  testing::expectWireBytes<HeartbeatApi>(
      request, 3, wire({{0, 1}, "g", {0, 0, 0, 5}, {0, 1}, "m", {0xff, 0xff}}));

  HeartbeatResponse response;
  response.error_code = 27;
  testing::expectWireBytes<HeartbeatApi>(response, 0, Bytes{0, 27});
  response.throttle_time_ms = 100;
  testing::expectWireBytes<HeartbeatApi>(response, 2, Bytes{0, 0, 0, 100, 0, 27});
}

TEST(HeartbeatMessageTest, FlexibleVersionMatchesTheSpec) {
  HeartbeatRequest request;
  request.group_id = "g";
  request.generation_id = 5;
  request.member_id = "m";
  request.group_instance_id = "i";
  // Compact strings carry length + 1 as an unsigned varint; the body ends with its tag count.
  testing::expectWireBytes<HeartbeatApi>(request, 4,
                                         wire({{2}, "g", {0, 0, 0, 5}, {2}, "m", {2}, "i", {0}}));
  request.group_instance_id.reset();  // null compact string: length 0
  testing::expectWireBytes<HeartbeatApi>(request, 4,
                                         wire({{2}, "g", {0, 0, 0, 5}, {2}, "m", {0}, {0}}));

  HeartbeatResponse response;
  response.throttle_time_ms = 100;
  response.error_code = 27;
  testing::expectWireBytes<HeartbeatApi>(response, 4, Bytes{0, 0, 0, 100, 0, 27, 0});
}

TEST(HeartbeatMessageTest, FieldsStartAtTheirFirstVersion) {
  HeartbeatRequest request;
  request.group_id = "g";
  request.generation_id = 5;
  request.member_id = "m";
  // The instance id starts at v3, so v2 is still the v0 layout.
  testing::expectWireBytes<HeartbeatApi>(request, 2,
                                         wire({{0, 1}, "g", {0, 0, 0, 5}, {0, 1}, "m"}));
  HeartbeatResponse response;
  response.throttle_time_ms = 100;
  response.error_code = 27;
  testing::expectWireBytes<HeartbeatApi>(response, 1, Bytes{0, 0, 0, 100, 0, 27});
}

}  // namespace
}  // namespace kafka::protocol
