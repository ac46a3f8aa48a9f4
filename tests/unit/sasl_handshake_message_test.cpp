#include "client_core/protocol/messages/sasl_handshake.hpp"
#include "tests/unit/round_trip.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

using testing::wire;

SaslHandshakeResponse sampleResponse() {
  return {33, {"PLAIN", "SCRAM-SHA-512"}, {}};
}

TEST(SaslHandshakeMessageTest, RoundTripsAtEveryVersion) {
  testing::expectRoundTripAllVersions<SaslHandshakeApi>({"SCRAM-SHA-256", {}}, sampleResponse());
}

TEST(SaslHandshakeMessageTest, NoVersionIsFlexible) {
  for (int16_t v = SaslHandshakeApi::kMinVersion; v <= SaslHandshakeApi::kMaxVersion; ++v) {
    EXPECT_FALSE(isFlexible<SaslHandshakeApi>(v)) << "v" << v;
  }
}

TEST(SaslHandshakeMessageTest, TruncatedResponsesFail) {
  for (int16_t v = SaslHandshakeApi::kMinVersion; v <= SaslHandshakeApi::kMaxVersion; ++v) {
    testing::expectTruncationsFail<SaslHandshakeApi>(sampleResponse(), v);
  }
}

TEST(SaslHandshakeMessageTest, MatchesHandComputedBytes) {
  testing::expectWireBytes<SaslHandshakeApi>(SaslHandshakeRequest{"PLAIN", {}}, 1,
                                             wire({{0, 5}, "PLAIN"}));
  testing::expectWireBytes<SaslHandshakeApi>(sampleResponse(), 1,
                                             wire({{0, 33},       // UNSUPPORTED_SASL_MECHANISM
                                                   {0, 0, 0, 2},  // mechanisms: 2
                                                   {0, 5},
                                                   "PLAIN",
                                                   {0, 13},
                                                   "SCRAM-SHA-512"}));
}

TEST(SaslHandshakeMessageTest, WholeRequestFrameMatchesHandComputedBytes) {
  // Request header v1 even at the newest version: key 17, version 1, correlation id 4, client id.
  Bytes frame = encodeRequestFrame<SaslHandshakeApi>({"PLAIN", {}}, 1, 4, "c");
  EXPECT_EQ(frame, wire({{0, 0, 0, 18},  // frame length
                         {0, 17},        // api key
                         {0, 1},         // api version
                         {0, 0, 0, 4},   // correlation id
                         {0, 1},
                         "c",  // client id
                         {0, 5},
                         "PLAIN"}));
}

}  // namespace
}  // namespace kafka::protocol
