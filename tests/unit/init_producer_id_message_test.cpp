#include "client_core/protocol/messages/init_producer_id.hpp"
#include "tests/unit/round_trip.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

InitProducerIdRequest sampleRequest() {
  return InitProducerIdRequest{"txn-1", 60000, 4000, 3, {}};
}

InitProducerIdResponse sampleResponse() {
  return InitProducerIdResponse{15, 47, 4001, 4, {}};
}

TEST(InitProducerIdMessageTest, RoundTripsAtEveryVersion) {
  testing::expectRoundTripAllVersions<InitProducerIdApi>(sampleRequest(), sampleResponse());
  InitProducerIdRequest idempotent = sampleRequest();
  idempotent.transactional_id = std::nullopt;
  for (int16_t v = InitProducerIdApi::kMinVersion; v <= InitProducerIdApi::kMaxVersion; ++v) {
    testing::expectRequestRoundTrip<InitProducerIdApi>(idempotent, v);
  }
}

TEST(InitProducerIdMessageTest, TruncatedResponsesFail) {
  for (int16_t v : {0, 1, 2, 5}) {
    testing::expectTruncationsFail<InitProducerIdApi>(sampleResponse(), v);
  }
}

TEST(InitProducerIdMessageTest, RequestWireFormats) {
  InitProducerIdRequest r;
  r.transactional_id = std::nullopt;
  r.transaction_timeout_ms = 60000;
  // transactional_id: null (int16 -1); transaction_timeout_ms 60000
  testing::expectWireBytes<InitProducerIdApi>(r, 0, {0xff, 0xff, 0, 0, 0xea, 0x60});
  // compact null (0); timeout; tags
  testing::expectWireBytes<InitProducerIdApi>(r, 2, {0, 0, 0, 0xea, 0x60, 0});
  // v3 adds producer_id -1 and producer_epoch -1 before the tags
  testing::expectWireBytes<InitProducerIdApi>(
      r, 3, {0, 0, 0, 0xea, 0x60, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0});

  r.transactional_id = "t";
  r.producer_id = 258;
  r.producer_epoch = 3;
  testing::expectWireBytes<InitProducerIdApi>(
      r, 4, {2, 't', 0, 0, 0xea, 0x60, 0, 0, 0, 0, 0, 0, 1, 2, 0, 3, 0});
}

TEST(InitProducerIdMessageTest, ResponseWireFormats) {
  InitProducerIdResponse r{0, 0, 42, 1, {}};
  // throttle_time_ms; error_code; producer_id 42; producer_epoch 1
  testing::expectWireBytes<InitProducerIdApi>(r, 0,
                                              {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 42, 0, 1});
  // the same plus tags
  testing::expectWireBytes<InitProducerIdApi>(r, 2,
                                              {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 42, 0, 1, 0});
}

}  // namespace
}  // namespace kafka::protocol
