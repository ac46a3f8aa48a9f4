#include "client_core/protocol/codec.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace kafka::protocol {
namespace {

TEST(CodecTest, FixedWidthIntegersAreBigEndian) {
  Bytes out;
  Writer w(out);
  w.int16(0x0102);
  w.int32(-2);
  w.int64(0x0102030405060708);
  EXPECT_EQ(out, (Bytes{1, 2, 0xff, 0xff, 0xff, 0xfe, 1, 2, 3, 4, 5, 6, 7, 8}));
  Reader r(out);
  EXPECT_EQ(r.int16(), 0x0102);
  EXPECT_EQ(r.int32(), -2);
  EXPECT_EQ(r.int64(), 0x0102030405060708);
  EXPECT_TRUE(r.done());
}

TEST(CodecTest, ZigZagVarintsMatchTheProtocolExamples) {
  // From the Kafka protocol guide: 0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3, 300 (unsigned) -> ac 02.
  for (auto [value, wire] : std::vector<std::pair<int32_t, Bytes>>{
           {0, {0}}, {-1, {1}}, {1, {2}}, {-2, {3}}, {150, {0xac, 0x02}}}) {
    Bytes out;
    Writer(out).varint(value);
    EXPECT_EQ(out, wire) << value;
    Reader r(out);
    EXPECT_EQ(r.varint(), value);
    EXPECT_TRUE(r.done());
  }
}

TEST(CodecTest, VarlongExtremesRoundTrip) {
  for (int64_t v : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                    int64_t{0}, int64_t{-1}}) {
    Bytes out;
    Writer(out).varlong(v);
    Reader r(out);
    EXPECT_EQ(r.varlong(), v);
    EXPECT_TRUE(r.done());
  }
}

TEST(CodecTest, OverlongVarintIsRejected) {
  Bytes six_bytes{0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
  Reader r(six_bytes);
  r.unsignedVarint();
  EXPECT_FALSE(r.ok());
  Bytes too_big{0xff, 0xff, 0xff, 0xff, 0x1f};  // 35 bits
  Reader r2(too_big);
  r2.unsignedVarint();
  EXPECT_FALSE(r2.ok());
  Bytes eleven(11, 0x80);
  Reader r3(eleven);
  r3.varlong();
  EXPECT_FALSE(r3.ok());
}

TEST(CodecTest, StringsInClassicAndCompactForm) {
  Bytes out;
  Writer w(out);
  w.string("ab", false);
  w.string("ab", true);
  w.nullableString(std::nullopt, false);
  w.nullableString(std::nullopt, true);
  EXPECT_EQ(out, (Bytes{0, 2, 'a', 'b', 3, 'a', 'b', 0xff, 0xff, 0}));
  Reader r(out);
  EXPECT_EQ(r.string(false), "ab");
  EXPECT_EQ(r.string(true), "ab");
  EXPECT_EQ(r.nullableString(false), std::nullopt);
  EXPECT_EQ(r.nullableString(true), std::nullopt);
  EXPECT_TRUE(r.done());
}

TEST(CodecTest, LengthsPastTheEndFailWithoutReading) {
  Bytes out{0, 10, 'a'};
  Reader r(out);
  r.string(false);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error().find("exceeds"), std::string::npos) << r.error();
}

TEST(CodecTest, NegativeLengthsOtherThanNullFail) {
  Bytes out{0xff, 0xff, 0xff, 0xfe};
  Reader r(out);
  r.nullableBytes(false);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error().find("negative"), std::string::npos) << r.error();
}

TEST(CodecTest, NullWhereNotAllowedFails) {
  Bytes out{0xff, 0xff};
  Reader r(out);
  r.string(false);
  EXPECT_FALSE(r.ok());
}

TEST(CodecTest, ArrayCountLargerThanRemainingBytesFails) {
  Bytes out{0x7f, 0xff, 0xff, 0xff, 0};
  Reader r(out);
  EXPECT_EQ(r.arrayLength(false), std::nullopt);
  EXPECT_FALSE(r.ok());
}

TEST(CodecTest, UuidPrintsAsUrlSafeBase64) {
  Uuid u;
  u.bytes.fill(0xff);
  EXPECT_EQ(u.toString(), "_____________________w");
  EXPECT_TRUE(Uuid{}.isZero());
}

TEST(CodecTest, FirstErrorIsKept) {
  Bytes out{0};
  Reader r(out);
  r.int32();
  std::string first = r.error();
  r.int64();
  EXPECT_EQ(r.error(), first);
}

}  // namespace
}  // namespace kafka::protocol
