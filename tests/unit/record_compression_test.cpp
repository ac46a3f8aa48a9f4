// The batch codecs: round trips, the framings Kafka peers expect and write, and bounded
// decompression of hostile input.
#include <gtest/gtest.h>
#include <snappy-c.h>

#include <random>
#include <string>
#include <vector>

#include "client_core/record/compression.hpp"

namespace kafka::record {
namespace {

using protocol::Bytes;
using protocol::ByteView;

constexpr Compression kCodecs[] = {Compression::kGzip, Compression::kSnappy, Compression::kLz4,
                                   Compression::kZstd};

Bytes compressible(size_t n) {
  Bytes out(n);
  const std::string pattern = "kafka-sidecar record payload, fairly repetitive; ";
  for (size_t i = 0; i < n; ++i)
    out[i] = static_cast<uint8_t>(pattern[i % pattern.size()] + i / 4096 % 3);
  return out;
}

Bytes randomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes out(n);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

Bytes compressed(Compression codec, ByteView input) {
  Bytes out;
  auto r = compress(codec, input, out);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return out;
}

class RecordCompressionTest : public ::testing::TestWithParam<Compression> {};

TEST_P(RecordCompressionTest, RoundTripsSmallLargeAndIncompressibleInputs) {
  const Compression codec = GetParam();
  const std::vector<Bytes> inputs = {Bytes{}, Bytes{'x'}, compressible(1000),
                                     compressible(3 * 1024 * 1024 + 17),
                                     randomBytes(200 * 1024, 7)};
  for (const Bytes& input : inputs) {
    SCOPED_TRACE(std::string(compressionName(codec)) + " of " + std::to_string(input.size()));
    Bytes packed = compressed(codec, input);
    Bytes out{1, 2, 3};  // decompress appends
    auto r = decompress(codec, packed, out, input.size());
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(out.size(), input.size() + 3);
    EXPECT_TRUE(std::equal(input.begin(), input.end(), out.begin() + 3));
  }
  const Bytes big = compressible(1 << 20);
  EXPECT_LT(compressed(codec, big).size(), big.size() / 4);
}

TEST_P(RecordCompressionTest, RejectsOutputBeyondTheLimitNamingCodecAndLimit) {
  const Compression codec = GetParam();
  // Zeros compress a thousandfold, except with snappy, which stops near 21 to 1.
  const Bytes bomb(16 * 1024 * 1024, 0);
  const Bytes packed = compressed(codec, bomb);
  EXPECT_LT(packed.size(), bomb.size() / 20);
  Bytes out{9};
  auto r = decompress(codec, packed, out, 1024 * 1024);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCorruptMessage);
  EXPECT_NE(r.error().message.find(std::string(compressionName(codec))), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("1048576"), std::string::npos) << r.error().message;
  EXPECT_EQ(out, Bytes{9}) << "a failed call leaves the output as it was";
  // A limit of exactly the size passes; one byte less does not.
  Bytes exact;
  EXPECT_TRUE(decompress(codec, packed, exact, bomb.size()).ok());
  EXPECT_EQ(exact.size(), bomb.size());
  Bytes short_by_one;
  EXPECT_FALSE(decompress(codec, packed, short_by_one, bomb.size() - 1).ok());
}

TEST_P(RecordCompressionTest, RejectsTruncatedAndGarbageInput) {
  const Compression codec = GetParam();
  const Bytes input = compressible(100000);
  const Bytes packed = compressed(codec, input);
  for (size_t cut : {size_t{0}, size_t{1}, size_t{5}, packed.size() / 2, packed.size() - 1}) {
    Bytes out;
    auto r = decompress(codec, ByteView(packed).first(cut), out, 1 << 24);
    EXPECT_FALSE(r.ok()) << compressionName(codec) << " cut at " << cut;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, ErrorCode::kCorruptMessage);
    }
  }
  Bytes out;
  EXPECT_FALSE(decompress(codec, randomBytes(5000, 3), out, 1 << 24).ok());
}

INSTANTIATE_TEST_SUITE_P(Codecs, RecordCompressionTest, ::testing::ValuesIn(kCodecs),
                         [](const auto& param_info) {
                           return std::string(compressionName(param_info.param));
                         });

TEST(RecordCompressionFramingTest, WritesTheFramesKafkaReadersExpect) {
  const Bytes input = compressible(200000);
  const Bytes gzip = compressed(Compression::kGzip, input);
  EXPECT_EQ(gzip[0], 0x1f);  // gzip, not zlib, framing
  EXPECT_EQ(gzip[1], 0x8b);
  const Bytes lz4 = compressed(Compression::kLz4, input);
  ASSERT_GT(lz4.size(), 7u);
  EXPECT_EQ(Bytes(lz4.begin(), lz4.begin() + 4), (Bytes{0x04, 0x22, 0x4d, 0x18}));
  // FLG: version 01, independent blocks, no block or content checksum, no content size.
  EXPECT_EQ(lz4[4], 0x60);
  EXPECT_EQ(lz4[5], 0x40);  // BD: 64 KiB blocks
  const Bytes zstd = compressed(Compression::kZstd, input);
  EXPECT_EQ(Bytes(zstd.begin(), zstd.begin() + 4), (Bytes{0x28, 0xb5, 0x2f, 0xfd}));
  // Raw snappy starts with the uncompressed length as a varint (200000 = 0xc0 0x9a 0x0c).
  const Bytes snappy = compressed(Compression::kSnappy, input);
  EXPECT_EQ(Bytes(snappy.begin(), snappy.begin() + 3), (Bytes{0xc0, 0x9a, 0x0c}));
}

// snappy-java's framing, as Java producers write it: magic, version 1, compatible version 1, then
// blocks each preceded by a big-endian int32 length.
Bytes xerialFrame(ByteView input, size_t block_size) {
  Bytes out = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
  for (size_t pos = 0; pos < input.size(); pos += block_size) {
    const size_t n = std::min(block_size, input.size() - pos);
    size_t length = snappy_max_compressed_length(n);
    Bytes block(length);
    EXPECT_EQ(snappy_compress(reinterpret_cast<const char*>(input.data() + pos), n,
                              reinterpret_cast<char*>(block.data()), &length),
              SNAPPY_OK);
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<uint8_t>(length >> shift));
    out.insert(out.end(), block.begin(), block.begin() + static_cast<std::ptrdiff_t>(length));
  }
  return out;
}

TEST(RecordCompressionFramingTest, ReadsXerialSnappyFrames) {
  const Bytes input = compressible(100000);
  const Bytes framed = xerialFrame(input, 32 * 1024);
  Bytes out;
  auto r = decompress(Compression::kSnappy, framed, out, 1 << 20);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(out, input);
  // The limit counts across blocks.
  Bytes limited;
  auto over = decompress(Compression::kSnappy, framed, limited, 50000);
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.error().message.find("50000"), std::string::npos);
  // A block length running past the end.
  Bytes cut(framed.begin(), framed.end() - 10);
  EXPECT_FALSE(decompress(Compression::kSnappy, cut, limited, 1 << 20).ok());
}

TEST(RecordCompressionFramingTest, ReadsLz4FramesWithTheLegacyHeaderChecksum) {
  const Bytes input = compressible(5000);
  Bytes frame = compressed(Compression::kLz4, input);
  // Byte 6 is the header checksum (no content size). Old Kafka wrote a wrong one; the reader
  // for magic-0 data recomputes it, the standard reader rejects it.
  frame[6] ^= 0x5a;
  Bytes out;
  EXPECT_FALSE(decompress(Compression::kLz4, frame, out, 1 << 20).ok());
  auto r = decompress(Compression::kLz4, frame, out, 1 << 20, Lz4HeaderChecksum::kLegacyMagicV0);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(out, input);
}

TEST(RecordCompressionFramingTest, ReadsConcatenatedGzipMembersAndZstdFrames) {
  const Bytes a = compressible(3000);
  const Bytes b = randomBytes(2000, 11);
  for (Compression codec : {Compression::kGzip, Compression::kZstd}) {
    Bytes both = compressed(codec, a);
    const Bytes second = compressed(codec, b);
    both.insert(both.end(), second.begin(), second.end());
    Bytes out;
    auto r = decompress(codec, both, out, 1 << 20);
    ASSERT_TRUE(r.ok()) << r.error().message;
    Bytes expected = a;
    expected.insert(expected.end(), b.begin(), b.end());
    EXPECT_EQ(out, expected) << compressionName(codec);
  }
}

TEST(RecordCompressionFramingTest, NoneCopiesWithinTheLimit) {
  const Bytes input = {1, 2, 3};
  Bytes out;
  ASSERT_TRUE(compress(Compression::kNone, input, out).ok());
  EXPECT_EQ(out, input);
  Bytes back;
  EXPECT_TRUE(decompress(Compression::kNone, input, back, 3).ok());
  EXPECT_FALSE(decompress(Compression::kNone, input, back, 2).ok());
}

}  // namespace
}  // namespace kafka::record
