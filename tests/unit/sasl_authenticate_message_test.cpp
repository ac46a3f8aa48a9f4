#include "client_core/protocol/messages/sasl_authenticate.hpp"
#include "tests/unit/round_trip.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

using testing::wire;

SaslAuthenticateRequest sampleRequest() {
  return {wire({{0}, "user", {0}, "secret"}), {}};
}

SaslAuthenticateResponse sampleResponse() {
  return {58, "Authentication failed: Invalid username or password", Bytes{1, 2, 3}, 3600000, {}};
}

TEST(SaslAuthenticateMessageTest, RoundTripsAtEveryVersion) {
  testing::expectRoundTripAllVersions<SaslAuthenticateApi>(sampleRequest(), sampleResponse());
  SaslAuthenticateResponse null_message = sampleResponse();
  null_message.error_message = std::nullopt;
  testing::expectRoundTripAllVersions<SaslAuthenticateApi>(sampleRequest(), null_message);
}

TEST(SaslAuthenticateMessageTest, TruncatedResponsesFail) {
  for (int16_t v = SaslAuthenticateApi::kMinVersion; v <= SaslAuthenticateApi::kMaxVersion; ++v) {
    testing::expectTruncationsFail<SaslAuthenticateApi>(sampleResponse(), v);
  }
}

TEST(SaslAuthenticateMessageTest, MatchesHandComputedBytes) {
  // PLAIN's token: authorization id (empty), NUL, user, NUL, password; int32-length bytes in v0.
  testing::expectWireBytes<SaslAuthenticateApi>(sampleRequest(), 0,
                                                wire({{0, 0, 0, 12}, {0}, "user", {0}, "secret"}));

  SaslAuthenticateResponse r{58, "bad", Bytes{1, 2}, 3600000, {}};
  testing::expectWireBytes<SaslAuthenticateApi>(
      r, 2,
      wire({{0, 58},  // SASL_AUTHENTICATION_FAILED
            {4},
            "bad",                              // compact string: length + 1
            {3, 1, 2},                          // compact bytes: length + 1
            {0, 0, 0, 0, 0, 0x36, 0xee, 0x80},  // session_lifetime_ms 3600000
            {0}}));                             // no tags
  r.error_message = std::nullopt;
  r.session_lifetime_ms = 0;
  testing::expectWireBytes<SaslAuthenticateApi>(r, 0,
                                                wire({{0, 58},                // error_code
                                                      {0xff, 0xff},           // error_message null
                                                      {0, 0, 0, 2, 1, 2}}));  // auth_bytes
}

}  // namespace
}  // namespace kafka::protocol
