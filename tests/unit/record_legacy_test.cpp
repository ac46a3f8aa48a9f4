// Legacy message sets (magic 0 and 1), written out by hand from the old format's specification:
// plain messages, compressed wrappers with absolute (v0) and relative (v1) inner offsets, the
// lz4 header checksum of v0, and damaged input.
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "client_core/record/compression.hpp"
#include "client_core/record/record_batch_builder.hpp"
#include "client_core/record/record_batch_reader.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::record {
namespace {

using protocol::Bytes;
using protocol::ByteView;
using protocol::testing::wire;

std::optional<std::string> text(const std::optional<ByteView>& b) {
  if (!b) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(b->data()), b->size());
}

void putInt(Bytes& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void putBytes(Bytes& out, const std::optional<Bytes>& b) {
  if (!b) return putInt(out, 0xffffffff, 4);
  putInt(out, b->size(), 4);
  out.insert(out.end(), b->begin(), b->end());
}

std::optional<Bytes> bytesOf(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  return Bytes(s->begin(), s->end());
}

// One message: offset | size | crc | magic | attributes | [timestamp] | key | value.
Bytes message(int64_t offset, int8_t magic, int8_t attributes, int64_t timestamp,
              const std::optional<Bytes>& key, const std::optional<Bytes>& value) {
  Bytes body;
  body.push_back(static_cast<uint8_t>(magic));
  body.push_back(static_cast<uint8_t>(attributes));
  if (magic == 1) putInt(body, static_cast<uint64_t>(timestamp), 8);
  putBytes(body, key);
  putBytes(body, value);
  Bytes out;
  putInt(out, static_cast<uint64_t>(offset), 8);
  putInt(out, body.size() + 4, 4);
  putInt(out, crc32(0, body.data(), static_cast<uInt>(body.size())), 4);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Bytes message(int64_t offset, int8_t magic, int64_t timestamp, std::optional<std::string> key,
              std::optional<std::string> value) {
  return message(offset, magic, 0, timestamp, bytesOf(key), bytesOf(value));
}

// A compressed wrapper around the inner messages `inner` (concatenated).
Bytes wrapper(int64_t offset, int8_t magic, Compression codec, int64_t timestamp,
              const Bytes& inner, bool log_append_time = false) {
  Bytes packed;
  EXPECT_TRUE(compress(codec, inner, packed).ok());
  const int8_t attributes =
      static_cast<int8_t>(static_cast<int>(codec) | (log_append_time ? kLogAppendTimeFlag : 0));
  return message(offset, magic, attributes, timestamp, std::nullopt, packed);
}

struct Seen {
  int64_t offset;
  int64_t timestamp;
  std::optional<std::string> key;
  std::optional<std::string> value;
  bool operator==(const Seen&) const = default;
};

struct Decoded {
  std::vector<std::vector<Seen>> batches;
  std::vector<int8_t> magics;
  std::optional<Error> error;
};

Decoded decodeAll(ByteView data) {
  Decoded out;
  RecordBatchReader reader(data);
  RecordBatch batch;
  while (true) {
    auto next = reader.next(batch);
    if (!next.ok()) {
      out.error = next.error();
      break;
    }
    if (!*next) break;
    std::vector<Seen> seen;
    for (const Record& r : batch.records) {
      seen.push_back({r.offset, r.timestamp, text(r.key), text(r.value)});
      EXPECT_TRUE(r.headers.empty());
    }
    out.batches.push_back(seen);
    out.magics.push_back(batch.magic);
  }
  return out;
}

TEST(RecordLegacyTest, DecodesHandWrittenV0AndV1Messages) {
  // CRC-32 values computed independently over magic..value.
  const Bytes v0 = wire({{0, 0, 0, 0, 0, 0, 0, 5},
                         {0, 0, 0, 16},
                         {0x1f, 0xec, 0xd7, 0x0a},
                         {0},
                         {0},
                         {0, 0, 0, 1},
                         "k",
                         {0, 0, 0, 1},
                         "v"});
  const Bytes v1 = wire({{0, 0, 0, 0, 0, 0, 0, 9},
                         {0, 0, 0, 24},
                         {0xdb, 0xa4, 0xe6, 0xe2},
                         {1},
                         {0},
                         {0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00},
                         {0xff, 0xff, 0xff, 0xff},
                         {0, 0, 0, 2},
                         "hi"});
  EXPECT_EQ(v0, message(5, 0, -1, "k", "v"));
  EXPECT_EQ(v1, message(9, 1, 1700000000000, std::nullopt, "hi"));
  Decoded decoded = decodeAll(wire({v0, v1}));
  ASSERT_FALSE(decoded.error) << decoded.error->message;
  ASSERT_EQ(decoded.batches.size(), 2u);
  EXPECT_EQ(decoded.batches[0], (std::vector<Seen>{{5, -1, "k", "v"}}));
  EXPECT_EQ(decoded.batches[1], (std::vector<Seen>{{9, 1700000000000, std::nullopt, "hi"}}));
  EXPECT_EQ(decoded.magics, (std::vector<int8_t>{0, 1}));
}

TEST(RecordLegacyTest, ExpandsV1WrappersWithRelativeOffsets) {
  // The broker gives the wrapper the absolute offset of the last inner message.
  const Bytes inner = wire({message(0, 1, 100, "a", "1"), message(1, 1, 300, std::nullopt, "2"),
                            message(2, 1, 200, "c", std::nullopt)});
  for (Compression codec : {Compression::kGzip, Compression::kSnappy, Compression::kLz4}) {
    SCOPED_TRACE(compressionName(codec));
    Decoded decoded = decodeAll(wrapper(12, 1, codec, 300, inner));
    ASSERT_FALSE(decoded.error) << decoded.error->message;
    ASSERT_EQ(decoded.batches.size(), 1u);
    EXPECT_EQ(decoded.batches[0], (std::vector<Seen>{{10, 100, "a", "1"},
                                                     {11, 300, std::nullopt, "2"},
                                                     {12, 200, "c", std::nullopt}}));
  }
  // Log-append time on the wrapper overrides the inner timestamps.
  Decoded appended = decodeAll(wrapper(12, 1, Compression::kGzip, 999, inner, true));
  ASSERT_FALSE(appended.error);
  for (const Seen& s : appended.batches[0]) EXPECT_EQ(s.timestamp, 999);
}

TEST(RecordLegacyTest, ExpandsV0WrappersWithAbsoluteOffsets) {
  const Bytes inner = wire({message(40, 0, -1, "a", "1"), message(41, 0, -1, "b", "2")});
  for (Compression codec : {Compression::kGzip, Compression::kSnappy, Compression::kLz4}) {
    SCOPED_TRACE(compressionName(codec));
    Bytes set = wrapper(41, 0, codec, -1, inner);
    if (codec == Compression::kLz4) {
      // Magic-0 writers hashed the frame magic into the header checksum: spoil it the same way
      // as far as the reader can tell (any wrong byte must be tolerated), and fix the CRC.
      const size_t hc = 12 + 4 + 2 + 4 + 4 + 6;  // offset/size, crc, magic+attrs, key, value len
      set[hc] ^= 0xa5;
      const ByteView covered = ByteView(set).subspan(16);
      const auto crc = crc32(0, covered.data(), static_cast<uInt>(covered.size()));
      for (int i = 0; i < 4; ++i) set[12 + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
    }
    Decoded decoded = decodeAll(set);
    ASSERT_FALSE(decoded.error) << decoded.error->message;
    EXPECT_EQ(decoded.batches[0], (std::vector<Seen>{{40, -1, "a", "1"}, {41, -1, "b", "2"}}));
  }
}

TEST(RecordLegacyTest, ReadsLegacyMessagesAndV2BatchesInOneFetch) {
  RecordBatchBuilder builder({.base_offset = 3});
  ASSERT_TRUE(builder.append(5000, std::nullopt, ByteView(Bytes{'n', 'e', 'w'})).ok());
  auto v2 = builder.build();
  ASSERT_TRUE(v2.ok());
  const Bytes old =
      wire({message(0, 0, -1, "x", "old0"),
            wrapper(2, 1, Compression::kGzip, 50,
                    wire({message(0, 1, 40, "y", "old1"), message(1, 1, 50, "z", "old2")}))});
  Decoded decoded = decodeAll(wire({old, *v2}));
  ASSERT_FALSE(decoded.error) << decoded.error->message;
  ASSERT_EQ(decoded.batches.size(), 3u);
  EXPECT_EQ(decoded.magics, (std::vector<int8_t>{0, 1, 2}));
  EXPECT_EQ(decoded.batches[1], (std::vector<Seen>{{1, 40, "y", "old1"}, {2, 50, "z", "old2"}}));
  EXPECT_EQ(decoded.batches[2], (std::vector<Seen>{{3, 5000, std::nullopt, "new"}}));
}

TEST(RecordLegacyTest, RejectsDamagedMessagesNamingTheOffset) {
  Bytes crc = message(77, 1, 5, "k", "v");
  crc.back() ^= 1;
  Decoded decoded = decodeAll(crc);
  ASSERT_TRUE(decoded.error);
  EXPECT_EQ(decoded.error->code, ErrorCode::kCorruptMessage);
  EXPECT_NE(decoded.error->message.find("offset 77"), std::string::npos);
  EXPECT_NE(decoded.error->message.find("CRC"), std::string::npos);

  struct Case {
    const char* name;
    Bytes set;
    const char* expect;
  };
  const Bytes one = message(0, 1, 0, "a", "b");
  const Bytes nested = wrapper(5, 1, Compression::kGzip, 0,
                               wrapper(0, 1, Compression::kGzip, 0, message(0, 1, 0, "a", "b")));
  const std::vector<Case> cases = {
      {"nested compression", nested, "compressed too"},
      {"empty wrapper", wrapper(5, 1, Compression::kGzip, 0, Bytes{}), "empty"},
      {"null wrapper value", message(5, 1, 1, 0, std::nullopt, std::nullopt), "no value"},
      {"zstd is v2 only", wrapper(5, 1, Compression::kZstd, 0, message(0, 1, 0, "a", "b")),
       "not valid for magic 1"},
      {"truncated inner message",
       wrapper(5, 1, Compression::kGzip, 0, Bytes(one.begin(), one.end() - 2)), "inner message 0"},
      {"key past the message", message(5, 0, 0, -1, Bytes(3, 'k'), Bytes{}), "key length 9"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Bytes set = c.set;
    if (std::string(c.name) == "key past the message") {
      set[21] = 9;  // key length 9 of 3
      const ByteView covered = ByteView(set).subspan(16);
      const auto sum = crc32(0, covered.data(), static_cast<uInt>(covered.size()));
      for (int i = 0; i < 4; ++i) set[12 + i] = static_cast<uint8_t>(sum >> (24 - 8 * i));
    }
    decoded = decodeAll(set);
    ASSERT_TRUE(decoded.error);
    EXPECT_NE(decoded.error->message.find("offset 5"), std::string::npos) << decoded.error->message;
    EXPECT_NE(decoded.error->message.find(c.expect), std::string::npos) << decoded.error->message;
  }
}

}  // namespace
}  // namespace kafka::record
