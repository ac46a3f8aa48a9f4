// Hostile input: bytes from the network are untrusted, so decoding anything (empty, truncated,
// corrupted or random frames, lying lengths and counts, unknown APIs) must give an error or a
// value, never a crash, a hang or a huge allocation. Every API in AllApis is covered at every
// version through the run-time dispatcher, with samples built from each message's own schema.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>

#include "client_core/protocol/dispatch.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

using testing::wire;

// Sets every field of a message, recursively, to a value that is not its default, with two
// elements in every array: a sample that exercises every field the schema has.
template <class T>
void fillSample(T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    v = true;
  } else if constexpr (std::is_integral_v<T>) {
    v = static_cast<T>(5);
  } else if constexpr (std::is_same_v<T, double>) {
    v = 0.5;
  } else if constexpr (std::is_same_v<T, Uuid>) {
    for (size_t i = 0; i < v.bytes.size(); ++i) v.bytes[i] = static_cast<uint8_t>(i + 1);
  } else if constexpr (std::is_same_v<T, std::string>) {
    v = "sample";
  } else if constexpr (std::is_same_v<T, Bytes>) {
    v = {1, 2, 3};
  } else if constexpr (std::is_same_v<T, Records>) {
    v = Records::copyOf(Bytes{9, 8, 7, 6});
  } else if constexpr (detail::IsVector<T>::value) {
    v.resize(2);
    for (auto& element : v) fillSample(element);
  } else if constexpr (detail::IsOptional<T>::value) {
    v.emplace();
    fillSample(*v);
  } else {
    static_assert(detail::Schema<T>, "fillSample needs a message type");
    std::apply([&](const auto&... f) { (fillSample(v.*(f.member)), ...); }, T::fields());
    // A tag no definition knows: flexible versions must carry it through.
    v.unknown_tags = {{1000, {4, 2}}};
  }
}

template <class T>
T sample() {
  T v{};
  fillSample(v);
  return v;
}

// Frame bodies (no length prefix) of the sample request and response of A at `version`.
template <ApiDefinition A>
Bytes sampleResponseBody(int16_t version) {
  Bytes frame = encodeResponseFrame<A>(sample<typename A::Response>(), version, 11);
  return Bytes(frame.begin() + 4, frame.end());
}

template <ApiDefinition A>
Bytes sampleRequestBody(int16_t version) {
  Bytes frame = encodeRequestFrame<A>(sample<typename A::Request>(), version, 11, "hostile");
  return Bytes(frame.begin() + 4, frame.end());
}

using Decoder = Result<void> (*)(ApiKey, int16_t, ByteView);

// Every strict prefix fails; every single-bit corruption (one bit per byte, rotating) and a set
// of random bodies decode to an error or a value without crashing.
void expectHostileVariantsSurvive(Decoder decode, ApiKey key, int16_t version, const Bytes& body,
                                  std::mt19937& random) {
  for (size_t n = 0; n < body.size(); ++n) {
    EXPECT_FALSE(decode(key, version, ByteView(body).first(n)).ok())
        << "decoded from " << n << " of " << body.size() << " bytes";
  }
  Bytes corrupt = body;
  for (size_t i = 0; i < corrupt.size(); ++i) {
    const auto bit = static_cast<uint8_t>(1u << (i % 8));
    corrupt[i] ^= bit;
    (void)decode(key, version, corrupt);
    corrupt[i] ^= bit;
  }
  std::uniform_int_distribution<size_t> length(0, 2 * body.size());
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 20; ++i) {
    Bytes noise(length(random));
    for (uint8_t& b : noise) b = static_cast<uint8_t>(byte(random));
    (void)decode(key, version, noise);
    // Random bytes after a valid prefix reach deeper fields than pure noise does.
    Bytes tail = body;
    std::uniform_int_distribution<size_t> cut(0, body.size());
    tail.resize(cut(random));
    for (int j = 0; j < 16; ++j) tail.push_back(static_cast<uint8_t>(byte(random)));
    (void)decode(key, version, tail);
  }
}

TEST(HostileInputTest, EveryApiAndVersionSurvivesCorruptResponses) {
  std::mt19937 random(20240611);
  forEachApi([&]<class A>() {
    for (int16_t v = A::kMinVersion; v <= A::kMaxVersion; ++v) {
      SCOPED_TRACE(std::string(A::kName) + "Response v" + std::to_string(v));
      Bytes body = sampleResponseBody<A>(v);
      Result<void> valid = decodeResponseByKey(A::kKey, v, body);
      ASSERT_TRUE(valid.ok()) << valid.error().toString();
      EXPECT_FALSE(decodeResponseByKey(A::kKey, v, {}).ok());
      expectHostileVariantsSurvive(decodeResponseByKey, A::kKey, v, body, random);
    }
  });
}

TEST(HostileInputTest, EveryApiAndVersionSurvivesCorruptRequests) {
  std::mt19937 random(20240612);
  forEachApi([&]<class A>() {
    for (int16_t v = A::kMinVersion; v <= A::kMaxVersion; ++v) {
      SCOPED_TRACE(std::string(A::kName) + "Request v" + std::to_string(v));
      Bytes body = sampleRequestBody<A>(v);
      Result<void> valid = decodeRequestByKey(A::kKey, v, body);
      ASSERT_TRUE(valid.ok()) << valid.error().toString();
      EXPECT_FALSE(decodeRequestByKey(A::kKey, v, {}).ok());
      expectHostileVariantsSurvive(decodeRequestByKey, A::kKey, v, body, random);
    }
  });
}

TEST(HostileInputTest, SamplesKeepEveryFieldAtTheNewestVersion) {
  // Guards the samples above: if fillSample missed fields, the corruption tests would too.
  forEachApi([&]<class A>() {
    SCOPED_TRACE(A::kName);
    const auto response = sample<typename A::Response>();
    Bytes frame = encodeResponseFrame<A>(response, A::kMaxVersion, 1);
    auto decoded = decodeResponseFrame<A>(ByteView(frame).subspan(4), A::kMaxVersion);
    ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
    EXPECT_EQ(encodeResponseFrame<A>(*decoded, A::kMaxVersion, 1), frame);
    EXPECT_FALSE(decoded->unknown_tags.empty() && isFlexible<A>(A::kMaxVersion));
  });
}

// Visits the element type of every array reachable from T at ctx.version.
template <class T, class F>
void forEachArrayElementType(const SchemaContext& ctx, F&& f);

template <class M, class F>
void visitMemberType(const SchemaContext& ctx, F& f) {
  if constexpr (detail::IsOptional<M>::value) {
    visitMemberType<typename detail::IsOptional<M>::Inner>(ctx, f);
  } else if constexpr (detail::IsVector<M>::value && !std::is_same_v<M, Bytes>) {
    f.template operator()<typename M::value_type>();
    if constexpr (detail::Schema<typename M::value_type>) {
      forEachArrayElementType<typename M::value_type>(ctx, f);
    }
  } else if constexpr (detail::Schema<M>) {
    forEachArrayElementType<M>(ctx, f);
  }
}

template <class T, class F>
void forEachArrayElementType(const SchemaContext& ctx, F&& f) {
  std::apply(
      [&](const auto&... field) {
        ((field.versions.contains(ctx.version)
              ? visitMemberType<std::remove_cvref_t<decltype(T{}.*(field.member))>>(ctx, f)
              : void()),
         ...);
      },
      T::fields());
}

TEST(HostileInputTest, ArrayElementsTakeAtLeastOneByte) {
  // Array counts are checked against the bytes that remain, which bounds the work and memory of
  // a lying count only if no element can be encoded in zero bytes.
  forEachApi([&]<class A>() {
    for (int16_t v = A::kMinVersion; v <= A::kMaxVersion; ++v) {
      const SchemaContext ctx{v, isFlexible<A>(v)};
      auto check = [&]<class E>() {
        Bytes out;
        Writer w(out);
        detail::encodeValue(w, E{}, ctx);
        EXPECT_GE(out.size(), 1u) << A::kName << " v" << v << ": an array element of " << out.size()
                                  << " bytes";
      };
      forEachArrayElementType<typename A::Request>(ctx, check);
      forEachArrayElementType<typename A::Response>(ctx, check);
    }
  });
}

TEST(HostileInputTest, UnknownApiKeyIsNamed) {
  Bytes body = wire({{0, 0, 0, 1}, {0, 0}});
  Result<void> response = decodeResponseByKey(static_cast<ApiKey>(9999), 0, body);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kUnsupportedApi);
  EXPECT_EQ(response.error().message, "unknown API key 9999");

  // A request frame whose header names key 9999 (0x270f).
  Bytes request = wire({{0x27, 0x0f, 0, 0, 0, 0, 0, 1, 0xff, 0xff}});
  Result<void> by_key = decodeRequestByKey(static_cast<ApiKey>(9999), 0, request);
  ASSERT_FALSE(by_key.ok());
  EXPECT_EQ(by_key.error().message, "unknown API key 9999");
  Result<void> as_metadata = decodeRequestByKey(ApiKey::kMetadata, 0, request);
  ASSERT_FALSE(as_metadata.ok());
  EXPECT_NE(as_metadata.error().message.find("API key 9999"), std::string::npos)
      << as_metadata.error().message;
}

TEST(HostileInputTest, VersionsOutsideOurRangeAreNamed) {
  Bytes body = sampleResponseBody<MetadataApi>(MetadataApi::kMaxVersion);
  for (int16_t v :
       {int16_t{-1}, static_cast<int16_t>(MetadataApi::kMaxVersion + 1), int16_t{0x7fff}}) {
    Result<void> r = decodeResponseByKey(ApiKey::kMetadata, v, body);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kUnsupportedVersion);
    EXPECT_NE(r.error().message.find("Metadata v" + std::to_string(v)), std::string::npos)
        << r.error().message;
  }
  Result<void> produce = decodeResponseByKey(ApiKey::kProduce, 2, body);
  ASSERT_FALSE(produce.ok());
  EXPECT_EQ(produce.error().message, "Produce v2 is outside the versions we define, 3-13");
}

// Expects a Metadata response body to fail with a message containing `needle`.
void expectMetadataFails(int16_t version, const Bytes& body, const std::string& needle) {
  Result<void> r = decodeResponseByKey(ApiKey::kMetadata, version, body);
  ASSERT_FALSE(r.ok()) << "decoded: " << needle;
  EXPECT_EQ(r.error().code, ErrorCode::kMalformedMessage);
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
}

// Metadata v0 response: correlation id, brokers [node_id, host, port], topics.
TEST(HostileInputTest, NegativeLengthsFail) {
  expectMetadataFails(0, wire({{0, 0, 0, 1}, {0xff, 0xff, 0xff, 0xfb}}), "negative length -5");
  // -1 is null, which the brokers array may not be.
  expectMetadataFails(0, wire({{0, 0, 0, 1}, {0xff, 0xff, 0xff, 0xff}}), "null");
  // (Trailing zeros keep the frame long enough for the broker that the count announces.)
  expectMetadataFails(0,
                      wire({{0, 0, 0, 1}, {0, 0, 0, 1}, {0, 0, 0, 1}, {0xff, 0xfe}, {0, 0, 0, 0}}),
                      "brokers[0].host: negative string length -2");
  // Produce v3 request records (nullable bytes) of length -2.
  Bytes produce = wire({{0, 0, 0, 3, 0, 0, 0, 1, 0xff, 0xff},  // header: key 0 v3, id 1, no client
                        {0xff, 0xff},                          // transactional_id null
                        {0, 1, 0, 0, 0, 100},                  // acks, timeout
                        {0, 0, 0, 1, 0, 1},
                        "t",
                        {0, 0, 0, 1, 0, 0, 0, 0},  // one partition, index 0
                        {0xff, 0xff, 0xff, 0xfe}});
  Result<void> r = decodeRequestByKey(ApiKey::kProduce, 3, produce);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("records: negative length -2"), std::string::npos)
      << r.error().message;
}

TEST(HostileInputTest, OverlongVarintsFail) {
  // Metadata v9 (flexible) response: correlation id, then the header's tag count as a varint
  // that never ends within 5 bytes, and one whose 5th byte overflows 32 bits.
  expectMetadataFails(9, wire({{0, 0, 0, 1}, {0x80, 0x80, 0x80, 0x80, 0x80, 0x00}}),
                      "varint longer than 5 bytes");
  expectMetadataFails(9, wire({{0, 0, 0, 1}, {0xff, 0xff, 0xff, 0xff, 0x1f}}), "varint");
  // The same for a compact array count after an empty header tag section and throttle time.
  expectMetadataFails(9, wire({{0, 0, 0, 1}, {0}, {0, 0, 0, 0}, {0x81, 0x81, 0x81, 0x81, 0x81, 1}}),
                      "brokers: array count");
}

TEST(HostileInputTest, LengthsPastTheFrameFail) {
  expectMetadataFails(0, wire({{0, 0, 0, 1}, {0, 0, 0, 1}, {0, 0, 0, 1}, {0, 100}, "abcdefgh"}),
                      "string length 100");
  // A compact string claiming 50 bytes in a flexible version.
  expectMetadataFails(
      9, wire({{0, 0, 0, 1}, {0}, {0, 0, 0, 0}, {2}, {0, 0, 0, 1}, {51}, "abcdefgh"}), "length 50");
  // A tagged field whose size runs past the frame.
  expectMetadataFails(9, wire({{0, 0, 0, 1}, {1, 7, 40, 1, 2}}), "size 40 exceeds");
}

TEST(HostileInputTest, HugeArrayCountsFailFastWithoutAllocating) {
  const auto start = std::chrono::steady_clock::now();
  // 0x7fffffff brokers with 10 bytes remaining.
  expectMetadataFails(
      0, wire({{0, 0, 0, 1}, {0x7f, 0xff, 0xff, 0xff}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 0}}),
      "array count");
  // The same as a compact array: varint 0xfffffffe = count 0xfffffffd.
  expectMetadataFails(9,
                      wire({{0, 0, 0, 1},
                            {0},
                            {0, 0, 0, 0},
                            {0xfe, 0xff, 0xff, 0xff, 0x0f},
                            {1, 2, 3, 4, 5, 6, 7, 8, 9, 0}}),
                      "array count");
  // Nested: one topic whose partition count is 0x7fffffff (Fetch v4 response).
  Result<void> fetch = decodeResponseByKey(ApiKey::kFetch, 4,
                                           wire({{0, 0, 0, 1},
                                                 {0, 0, 0, 0},
                                                 {0, 0, 0, 1},
                                                 {0, 1},
                                                 "t",
                                                 {0x7f, 0xff, 0xff, 0xff},
                                                 {1, 2, 3, 4, 5, 6, 7, 8, 9, 0}}));
  ASSERT_FALSE(fetch.ok());
  EXPECT_NE(fetch.error().message.find("responses[0].partitions: array count"), std::string::npos)
      << fetch.error().message;
  // A tagged-field count far beyond the bytes that remain.
  expectMetadataFails(9, wire({{0, 0, 0, 1}, {0xff, 0xff, 0xff, 0xff, 0x0f}, {1, 2}}),
                      "tagged field count");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(HostileInputTest, MisorderedOrRepeatedTagsFail) {
  expectMetadataFails(9, wire({{0, 0, 0, 1}, {2, 5, 1, 0, 5, 1, 0}}), "out of order or repeated");
  expectMetadataFails(9, wire({{0, 0, 0, 1}, {2, 5, 1, 0, 3, 1, 0}}), "out of order or repeated");
}

}  // namespace
}  // namespace kafka::protocol
