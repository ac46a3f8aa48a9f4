// The compression codecs of Kafka record batches: gzip, snappy, lz4 and zstd, in the framings
// Kafka clients and brokers use.
//
// Writing:
//   gzip    a gzip stream (deflate with gzip header and trailer), as GZIPOutputStream writes;
//   snappy  one raw snappy block, as librdkafka writes (Java reads it too);
//   lz4     one LZ4 frame with independent 64 KiB blocks and no checksums but the header's:
//           Kafka's Java reader decompresses each block on its own, so blocks must not refer to
//           earlier ones;
//   zstd    one zstd frame.
// Reading accepts, in addition, snappy in the xerial (snappy-java) framing that Java clients
// write, several gzip members or zstd frames in a row, lz4 frames with checksums or a content
// size, and the broken lz4 header checksum of magic-0 message sets.
//
// Decompression is bounded: bytes from the network may be a "bomb" that inflates a thousandfold,
// so every call names the most it may produce and fails, naming codec and limit, rather than
// allocate more. Free functions; codec contexts are cached per thread, so any thread may call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "client_core/protocol/codec.hpp"
#include "client_core/protocol/result.hpp"

namespace kafka::record {

// The codec ids of the low three attribute bits of a batch (and of a legacy message).
enum class Compression : uint8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

inline constexpr uint8_t kMaxCompressionId = 4;

// "none", "gzip", "snappy", "lz4", "zstd".
std::string_view compressionName(Compression codec);

// How an lz4 frame's header checksum was computed. Brokers before 0.10 (message format v0)
// wrongly hashed the frame magic too; readers of such data must recompute it.
enum class Lz4HeaderChecksum { kStandard, kLegacyMagicV0 };

// Appends the compressed form of `input` to `out`. `level` is the codec's own scale (gzip 1-9,
// lz4 0-12, zstd 1-22; snappy has none); nullopt picks the codec's default. kNone appends
// `input` unchanged. Fails (kInvalidArgument) only for inputs the codec cannot take.
Result<void> compress(Compression codec, protocol::ByteView input, protocol::Bytes& out,
                      std::optional<int> level = std::nullopt);

// Appends the decompressed form of `input` to `out`, producing at most `max_output` bytes.
// Fails with kCorruptMessage when the data is not valid for the codec, is truncated, or would
// decompress to more than `max_output` bytes; the message names the codec (and the limit).
Result<void> decompress(Compression codec, protocol::ByteView input, protocol::Bytes& out,
                        size_t max_output,
                        Lz4HeaderChecksum lz4_checksum = Lz4HeaderChecksum::kStandard);

}  // namespace kafka::record
