// CRC-32C: published check values, incremental use, and the SSE4.2 path against the portable one.
#include <gtest/gtest.h>

#include <random>
#include <string_view>

#include "client_core/record/crc32c.hpp"

namespace kafka::record {
namespace {

using protocol::Bytes;
using protocol::ByteView;

ByteView text(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Bytes filled(size_t n, uint8_t (*byte)(size_t)) {
  Bytes out(n);
  for (size_t i = 0; i < n; ++i) out[i] = byte(i);
  return out;
}

TEST(RecordCrc32cTest, MatchesPublishedCheckValues) {
  // The "123456789" check value of CRC-32C, and the iSCSI vectors of RFC 3720 (B.4).
  const Bytes zeros(32, 0x00);
  const Bytes ones(32, 0xff);
  const Bytes ascending = filled(32, [](size_t i) { return static_cast<uint8_t>(i); });
  const Bytes descending = filled(32, [](size_t i) { return static_cast<uint8_t>(31 - i); });
  for (auto* crc : {&crc32c, &crc32cPortable}) {
    EXPECT_EQ(crc(text("123456789"), 0), 0xE3069283u);
    EXPECT_EQ(crc(ByteView(), 0), 0u);
    EXPECT_EQ(crc(zeros, 0), 0x8A9136AAu);
    EXPECT_EQ(crc(ones, 0), 0x62A8AB43u);
    EXPECT_EQ(crc(ascending, 0), 0x46DD794Eu);
    EXPECT_EQ(crc(descending, 0), 0x113FDB5Cu);
  }
}

TEST(RecordCrc32cTest, ExtendsAcrossPieces) {
  const ByteView all = text("The quick brown fox jumps over the lazy dog, twice over.");
  const uint32_t whole = crc32c(all);
  for (size_t split = 0; split <= all.size(); ++split) {
    EXPECT_EQ(crc32c(all.subspan(split), crc32c(all.first(split))), whole) << split;
    EXPECT_EQ(crc32cPortable(all.subspan(split), crc32cPortable(all.first(split))), whole);
  }
}

TEST(RecordCrc32cTest, HardwareAndPortablePathsAgreeOnRandomData) {
  if (!crc32cHardwareAvailable()) GTEST_SKIP() << "this CPU has no SSE4.2";
  std::mt19937_64 rng(20240601);
  Bytes data(70000);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  // Every alignment and tail length around the 8-byte steps, then larger random slices.
  for (size_t start = 0; start < 16; ++start) {
    for (size_t length = 0; length < 80; ++length) {
      const ByteView slice = ByteView(data).subspan(start, length);
      ASSERT_EQ(crc32cHardware(slice), crc32cPortable(slice)) << start << "+" << length;
    }
  }
  // Around the lengths where the three-stream loop takes over (768 bytes) and repeats.
  for (size_t length : {767, 768, 769, 1535, 1536, 1537, 2303, 2304, 2311, 65536}) {
    for (size_t start : {0, 3}) {
      const ByteView slice = ByteView(data).subspan(start, length);
      ASSERT_EQ(crc32cHardware(slice, 7), crc32cPortable(slice, 7)) << start << "+" << length;
    }
  }
  for (int i = 0; i < 200; ++i) {
    const size_t start = rng() % 1000;
    const size_t length = rng() % (data.size() - start);
    const uint32_t seed = static_cast<uint32_t>(rng());
    const ByteView slice = ByteView(data).subspan(start, length);
    ASSERT_EQ(crc32cHardware(slice, seed), crc32cPortable(slice, seed)) << start << "+" << length;
  }
}

}  // namespace
}  // namespace kafka::record
