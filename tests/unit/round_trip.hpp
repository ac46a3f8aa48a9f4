// Round-trip checks shared by the per-API message tests.
//
// A sample message with every field set to a non-default value is encoded at each version the
// API defines, decoded, and encoded again: the bytes must match and the second decode must equal
// the first. Fields that a version lacks are dropped by the first encode, so the comparison is
// against the first decode, not the sample; `expectFieldsKept` checks the sample's fields of the
// newest version survive unchanged.
#pragma once

#include <gtest/gtest.h>

#include "client_core/protocol/header.hpp"

namespace kafka::protocol::testing {

template <ApiDefinition A>
void expectRequestRoundTrip(const typename A::Request& sample, int16_t version) {
  SCOPED_TRACE(std::string(A::kName) + "Request v" + std::to_string(version));
  Bytes first = encodeRequestFrame<A>(sample, version, 7, "client");
  Reader r(ByteView(first).subspan(4));
  auto header = decodeRequestHeader(r, requestHeaderVersion(A::kKey, isFlexible<A>(version)));
  ASSERT_TRUE(header.ok()) << header.error().toString();
  EXPECT_EQ(header->api_key, A::kKey);
  EXPECT_EQ(header->api_version, version);
  EXPECT_EQ(header->correlation_id, 7);
  auto decoded = decodeRequestBody<A>(r, version);
  ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
  Bytes second = encodeRequestFrame<A>(*decoded, version, 7, "client");
  EXPECT_EQ(first, second);
  Reader r2(ByteView(second).subspan(4));
  ASSERT_TRUE(decodeRequestHeader(r2, requestHeaderVersion(A::kKey, isFlexible<A>(version))).ok());
  auto again = decodeRequestBody<A>(r2, version);
  ASSERT_TRUE(again.ok()) << again.error().toString();
  EXPECT_TRUE(*again == *decoded);
}

template <ApiDefinition A>
void expectResponseRoundTrip(const typename A::Response& sample, int16_t version) {
  SCOPED_TRACE(std::string(A::kName) + "Response v" + std::to_string(version));
  Bytes first = encodeResponseFrame<A>(sample, version, 9);
  auto decoded = decodeResponseFrame<A>(ByteView(first).subspan(4), version);
  ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
  Bytes second = encodeResponseFrame<A>(*decoded, version, 9);
  EXPECT_EQ(first, second);
  auto again = decodeResponseFrame<A>(ByteView(second).subspan(4), version);
  ASSERT_TRUE(again.ok()) << again.error().toString();
  EXPECT_TRUE(*again == *decoded);
}

// Round trips at every version of the API, and checks that at the newest version nothing of the
// sample is lost (the sample must use only fields the newest version has).
template <ApiDefinition A>
void expectRoundTripAllVersions(const typename A::Request& request,
                                const typename A::Response& response) {
  for (int16_t v = A::kMinVersion; v <= A::kMaxVersion; ++v) {
    expectRequestRoundTrip<A>(request, v);
    expectResponseRoundTrip<A>(response, v);
  }
  Bytes req = encodeRequestFrame<A>(request, A::kMaxVersion, 1, std::nullopt);
  Reader r(ByteView(req).subspan(4));
  ASSERT_TRUE(
      decodeRequestHeader(r, requestHeaderVersion(A::kKey, isFlexible<A>(A::kMaxVersion))).ok());
  auto decoded_request = decodeRequestBody<A>(r, A::kMaxVersion);
  ASSERT_TRUE(decoded_request.ok());
  EXPECT_TRUE(*decoded_request == request) << A::kName << " request lost a field at v"
                                           << A::kMaxVersion;
  Bytes resp = encodeResponseFrame<A>(response, A::kMaxVersion, 1);
  auto decoded_response = decodeResponseFrame<A>(ByteView(resp).subspan(4), A::kMaxVersion);
  ASSERT_TRUE(decoded_response.ok());
  EXPECT_TRUE(*decoded_response == response) << A::kName << " response lost a field at v"
                                             << A::kMaxVersion;
}

// Every strict prefix of a valid response frame must fail to decode, with an error, never a crash.
template <ApiDefinition A>
void expectTruncationsFail(const typename A::Response& response, int16_t version) {
  Bytes frame = encodeResponseFrame<A>(response, version, 3);
  ByteView body = ByteView(frame).subspan(4);
  for (size_t n = 0; n < body.size(); ++n) {
    auto decoded = decodeResponseFrame<A>(body.first(n), version);
    EXPECT_FALSE(decoded.ok()) << A::kName << " v" << version << " decoded from " << n << " of "
                               << body.size() << " bytes";
  }
}

}  // namespace kafka::protocol::testing
