#include "client_core/protocol/messages/find_coordinator.hpp"
#include "tests/unit/round_trip.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

// The newest versions batch keys; the single-key fields (v0-3) are checked separately.
FindCoordinatorRequest sampleRequest() {
  FindCoordinatorRequest r;
  r.key_type = 1;
  r.coordinator_keys = {"txn-a", "txn-b"};
  return r;
}

FindCoordinatorResponse sampleResponse() {
  FindCoordinatorResponse r;
  r.throttle_time_ms = 30;
  r.coordinators = {{"txn-a", 1, "broker-1", 9092, 0, std::nullopt, {}},
                    {"txn-b", -1, "", -1, 15, "coordinator not available", {}}};
  return r;
}

FindCoordinatorRequest singleKeyRequest() {
  FindCoordinatorRequest r;
  r.key = "group-1";
  r.key_type = 0;
  return r;
}

FindCoordinatorResponse singleKeyResponse() {
  FindCoordinatorResponse r;
  r.throttle_time_ms = 30;
  r.error_code = 15;
  r.error_message = "loading";
  r.node_id = 3;
  r.host = "broker-3";
  r.port = 9094;
  return r;
}

TEST(FindCoordinatorMessageTest, RoundTripsAtEveryVersion) {
  testing::expectRoundTripAllVersions<FindCoordinatorApi>(sampleRequest(), sampleResponse());
}

TEST(FindCoordinatorMessageTest, SingleKeyFieldsRoundTripUpToV3) {
  testing::expectRoundTripAllVersions<testing::VersionRange<FindCoordinatorApi, 0, 3>>(
      singleKeyRequest(), singleKeyResponse());
  FindCoordinatorRequest transaction = singleKeyRequest();
  transaction.key_type = 1;
  testing::expectRoundTripAllVersions<testing::VersionRange<FindCoordinatorApi, 1, 3>>(
      transaction, singleKeyResponse());
}

TEST(FindCoordinatorMessageTest, TruncatedResponsesFail) {
  for (int16_t v : {0, 1, 3}) {
    testing::expectTruncationsFail<FindCoordinatorApi>(singleKeyResponse(), v);
  }
  for (int16_t v : {4, 6}) testing::expectTruncationsFail<FindCoordinatorApi>(sampleResponse(), v);
}

TEST(FindCoordinatorMessageTest, RequestWireFormats) {
  FindCoordinatorRequest group;
  group.key = "g";
  testing::expectWireBytes<FindCoordinatorApi>(group, 0, {0, 1, 'g'});  // key
  FindCoordinatorRequest txn = group;
  txn.key_type = 1;
  testing::expectWireBytes<FindCoordinatorApi>(txn, 1,
                                               {0, 1, 'g', 1});  // key; key_type TRANSACTION
  testing::expectWireBytes<FindCoordinatorApi>(txn, 3,
                                               {2, 'g', 1, 0});  // compact key; key_type; tags

  FindCoordinatorRequest batch;
  batch.coordinator_keys = {"a", "b"};
  // key_type; coordinator_keys: compact count 2+1, "a", "b"; tags
  testing::expectWireBytes<FindCoordinatorApi>(batch, 4, {0, 3, 2, 'a', 2, 'b', 0});
}

TEST(FindCoordinatorMessageTest, ResponseWireFormats) {
  FindCoordinatorResponse r;
  r.error_code = 15;
  r.node_id = 1;
  r.host = "h";
  r.port = 9092;
  r.error_message = "";
  // error_code; node_id; host; port
  testing::expectWireBytes<FindCoordinatorApi>(r, 0,
                                               {0, 15, 0, 0, 0, 1, 0, 1, 'h', 0, 0, 0x23, 0x84});

  r.error_message = std::nullopt;
  // throttle_time_ms; error_code; error_message null (int16 -1); node_id; host; port
  testing::expectWireBytes<FindCoordinatorApi>(
      r, 1, {0, 0, 0, 0, 0, 15, 0xff, 0xff, 0, 0, 0, 1, 0, 1, 'h', 0, 0, 0x23, 0x84});
  // the same, compact, plus tags
  testing::expectWireBytes<FindCoordinatorApi>(
      r, 3, {0, 0, 0, 0, 0, 15, 0, 0, 0, 0, 1, 2, 'h', 0, 0, 0x23, 0x84, 0});

  FindCoordinatorResponse batch;
  batch.coordinators = {{"g", 1, "h", 9092, 0, std::nullopt, {}}};
  testing::expectWireBytes<FindCoordinatorApi>(batch, 4,
                                               {
                                                   0, 0,   0,    0,     // throttle_time_ms
                                                   2,                   // coordinators: compact 1+1
                                                   2, 'g',              //   key
                                                   0, 0,   0,    1,     //   node_id
                                                   2, 'h',              //   host
                                                   0, 0,   0x23, 0x84,  //   port
                                                   0, 0,                //   error_code
                                                   0,                   //   error_message: null
                                                   0,                   //   tags
                                                   0,                   // tags
                                               });
}

// A whole frame, to pin the header versions too: flexible requests use header v2, whose
// client_id keeps its classic int16 length; flexible responses use header v1.
TEST(FindCoordinatorMessageTest, FlexibleFramesUseHeaderV2AndV1) {
  FindCoordinatorRequest request;
  request.key = "g";
  EXPECT_EQ(encodeRequestFrame<FindCoordinatorApi>(request, 3, 7, "c"),
            (Bytes{
                0, 0,   0,   16,  // length
                0, 10,            // api_key FindCoordinator
                0, 3,             // api_version
                0, 0,   0,   7,   // correlation_id
                0, 1,   'c',      // client_id: int16 length
                0,                // header tags
                2, 'g', 0,   0    // key, key_type, tags
            }));

  FindCoordinatorResponse response;
  response.error_message = std::nullopt;
  Bytes frame = {
      0, 0, 0, 22,        // length
      0, 0, 0, 7,         // correlation_id
      0,                  // header tags
      0, 0, 0, 0,  0, 0,  // throttle_time_ms, error_code
      0,                  // error_message: null
      0, 0, 0, 0,  1,     // node_id, host ""
      0, 0, 0, 0,  0,     // port, tags
  };
  EXPECT_EQ(encodeResponseFrame<FindCoordinatorApi>(response, 3, 7), frame);
  auto decoded = decodeResponseFrame<FindCoordinatorApi>(ByteView(frame).subspan(4), 3);
  ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
  EXPECT_TRUE(*decoded == response);
}

}  // namespace
}  // namespace kafka::protocol
