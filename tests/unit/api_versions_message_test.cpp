#include "client_core/protocol/messages/api_versions.hpp"

#include <algorithm>

#include "tests/unit/round_trip.hpp"

namespace kafka::protocol {
namespace {

ApiVersionsResponse sampleResponse() {
  ApiVersionsResponse r;
  r.error_code = 35;
  r.api_keys = {{0, 0, 11, {}}, {18, 0, 4, {}}};
  r.throttle_time_ms = 12;
  r.supported_features = {{"metadata.version", 1, 20, {}}};
  r.finalized_features_epoch = 5;
  r.finalized_features = {{"metadata.version", 20, 1, {}}};
  r.zk_migration_ready = true;
  return r;
}

TEST(ApiVersionsMessageTest, RoundTripsAtEveryVersion) {
  ApiVersionsRequest request{"kafka-sidecar", "0.1.0", {}};
  testing::expectRoundTripAllVersions<ApiVersionsApi>(request, sampleResponse());
}

TEST(ApiVersionsMessageTest, TruncatedResponsesFail) {
  for (int16_t v = ApiVersionsApi::kMinVersion; v <= ApiVersionsApi::kMaxVersion; ++v) {
    testing::expectTruncationsFail<ApiVersionsApi>(sampleResponse(), v);
  }
}

TEST(ApiVersionsMessageTest, TaggedFieldsAreWrittenOnlyWhenNotDefault) {
  ApiVersionsResponse empty;
  Bytes frame = encodeResponseFrame<ApiVersionsApi>(empty, 3, 1);
  // length, correlation id, error code, compact array (1 = empty), throttle, tag count 0
  EXPECT_EQ(frame, (Bytes{0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0}));
}

TEST(ApiVersionsMessageTest, UnknownTagsAreKeptAndWrittenBack) {
  ApiVersionsResponse r;
  r.unknown_tags = {{7, {1, 2, 3}}};
  Bytes frame = encodeResponseFrame<ApiVersionsApi>(r, 3, 1);
  auto decoded = decodeResponseFrame<ApiVersionsApi>(ByteView(frame).subspan(4), 3);
  ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
  ASSERT_EQ(decoded->unknown_tags.size(), 1u);
  EXPECT_EQ(decoded->unknown_tags[0].tag, 7u);
  EXPECT_EQ(decoded->unknown_tags[0].data, (Bytes{1, 2, 3}));
}

TEST(ApiVersionsMessageTest, ErrorsNameTheFieldPath) {
  ApiVersionsResponse r;
  r.supported_features = {{"abc", 1, 2, {}}};
  Bytes frame = encodeResponseFrame<ApiVersionsApi>(r, 3, 1);
  // The feature name's compact length (3 + 1) sits just before "abc"; claim 100 bytes instead.
  auto name = std::search(frame.begin(), frame.end(), std::begin("abc"), std::end("abc") - 1);
  ASSERT_NE(name, frame.end());
  ASSERT_EQ(*(name - 1), 4);
  *(name - 1) = 101;
  auto decoded = decodeResponseFrame<ApiVersionsApi>(ByteView(frame).subspan(4), 3);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, ErrorCode::kMalformedMessage);
  EXPECT_NE(decoded.error().message.find("supported_features[0].name"), std::string::npos)
      << decoded.error().message;
}

TEST(ApiVersionsMessageTest, ArrayCountsTheBytesCannotHoldAreRefused) {
  ApiVersionsResponse r;
  r.api_keys = {{0, 0, 11, {}}, {1, 0, 12, {}}};
  Bytes frame = encodeResponseFrame<ApiVersionsApi>(r, 0, 1);
  auto decoded =
      decodeResponseFrame<ApiVersionsApi>(ByteView(frame).subspan(4, frame.size() - 5), 0);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("api_keys: array count 2 at offset 6 needs at least 12 "
                                         "bytes but only 11 remain"),
            std::string::npos)
      << decoded.error().message;
}

}  // namespace
}  // namespace kafka::protocol
