#include "client_core/record/compression.hpp"

#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

namespace kafka::record {
namespace {

using protocol::Bytes;
using protocol::ByteView;

Error corrupt(Compression codec, const std::string& what) {
  return Error{ErrorCode::kCorruptMessage, std::string(compressionName(codec)) + ": " + what};
}

Error overLimit(Compression codec, size_t limit) {
  return corrupt(codec,
                 "decompressed data exceeds the limit of " + std::to_string(limit) + " bytes");
}

const char* asChars(const uint8_t* p) {
  return reinterpret_cast<const char*>(p);
}
char* asChars(uint8_t* p) {
  return reinterpret_cast<char*>(p);
}

// The part of `out` a streaming decompressor writes into. It grows geometrically, never beyond
// one byte past the limit: a decoder that fills that byte has proven the data too large, without
// the window ever holding more than limit + 1 bytes. Unless committed, `out` is restored to its
// size before decompression.
class OutputWindow {
 public:
  OutputWindow(Bytes& out, size_t max_output, size_t size_hint)
      : out_(out),
        start_(out.size()),
        written_(out.size()),
        cap_(start_ + std::min(max_output, std::numeric_limits<size_t>::max() - start_ - 1) + 1) {
    out_.resize(std::min(cap_, start_ + std::max<size_t>(size_hint, 1024)));
  }
  ~OutputWindow() { out_.resize(committed_ ? written_ : start_); }
  OutputWindow(const OutputWindow&) = delete;
  OutputWindow& operator=(const OutputWindow&) = delete;

  // Free space after growing if needed; 0 once the window reached limit + 1.
  size_t makeRoom() {
    if (written_ == out_.size() && out_.size() < cap_) {
      size_t grown = out_.size() - start_;
      out_.resize(std::min(cap_, out_.size() + std::max<size_t>(grown, 64 * 1024)));
    }
    return out_.size() - written_;
  }
  uint8_t* next() { return out_.data() + written_; }
  void advance(size_t n) { written_ += n; }
  bool overLimit() const { return written_ == cap_; }
  Result<void> commit() {
    committed_ = true;
    return {};
  }

 private:
  Bytes& out_;
  const size_t start_;
  size_t written_;
  const size_t cap_;
  bool committed_ = false;
};

// ---- gzip ------------------------------------------------------------------------------------

struct DeflateState {
  z_stream stream{};
  int level = 0;
  bool initialized = false;
  ~DeflateState() {
    if (initialized) deflateEnd(&stream);
  }
};

Result<void> gzipCompress(ByteView input, Bytes& out, std::optional<int> level) {
  thread_local DeflateState state;
  const int wanted = level.value_or(Z_DEFAULT_COMPRESSION);
  if (input.size() > UINT_MAX) {
    return Error{ErrorCode::kInvalidArgument, "gzip: input too large"};
  }
  if (state.initialized && state.level != wanted) {
    deflateEnd(&state.stream);
    state.initialized = false;
  }
  if (!state.initialized) {
    state.stream = z_stream{};
    // 15 + 16: the largest window, with a gzip header and trailer instead of zlib's.
    if (deflateInit2(&state.stream, wanted, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return Error{ErrorCode::kInvalidArgument,
                   "gzip: cannot initialize level " + std::to_string(wanted)};
    }
    state.initialized = true;
    state.level = wanted;
  } else {
    deflateReset(&state.stream);
  }
  const size_t start = out.size();
  const size_t bound = deflateBound(&state.stream, static_cast<uLong>(input.size()));
  out.resize(start + bound);
  state.stream.next_in = const_cast<Bytef*>(input.data());
  state.stream.avail_in = static_cast<uInt>(input.size());
  state.stream.next_out = out.data() + start;
  state.stream.avail_out = static_cast<uInt>(std::min<size_t>(bound, UINT_MAX));
  const int rc = deflate(&state.stream, Z_FINISH);
  out.resize(start + state.stream.total_out);
  if (rc != Z_STREAM_END) {
    deflateEnd(&state.stream);
    state.initialized = false;
    return Error{ErrorCode::kInvalidArgument,
                 "gzip: compression failed (" + std::to_string(rc) + ")"};
  }
  return {};
}

Result<void> gzipDecompress(ByteView input, Bytes& out, size_t max_output) {
  constexpr Compression kCodec = Compression::kGzip;
  if (input.size() > UINT_MAX) return corrupt(kCodec, "input too large");
  z_stream zs{};
  // 15 + 32: the largest window, and a gzip or zlib header detected automatically.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return corrupt(kCodec, "cannot initialize inflate");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  zs.next_in = const_cast<Bytef*>(input.data());
  zs.avail_in = static_cast<uInt>(input.size());
  OutputWindow window(out, max_output, input.size() * 4);
  while (true) {
    const size_t room = window.makeRoom();
    if (room == 0) return overLimit(kCodec, max_output);
    zs.next_out = window.next();
    zs.avail_out = static_cast<uInt>(std::min<size_t>(room, UINT_MAX));
    const uInt before = zs.avail_out;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    window.advance(before - zs.avail_out);
    if (window.overLimit()) return overLimit(kCodec, max_output);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) return window.commit();
      // Another gzip member follows, as GZIPInputStream accepts.
      if (inflateReset(&zs) != Z_OK) return corrupt(kCodec, "cannot reset inflate");
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) return corrupt(kCodec, "truncated stream");
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return corrupt(kCodec, std::string("invalid data: ") + (zs.msg ? zs.msg : "inflate error"));
    }
  }
}

// ---- snappy ----------------------------------------------------------------------------------

// snappy-java's stream header: magic, then big-endian int32 version and compatible version.
constexpr std::array<uint8_t, 8> kXerialMagic = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t kXerialHeaderSize = 16;

Result<void> snappyCompress(ByteView input, Bytes& out) {
  const size_t start = out.size();
  size_t length = snappy_max_compressed_length(input.size());
  out.resize(start + length);
  if (snappy_compress(asChars(input.data()), input.size(), asChars(out.data() + start), &length) !=
      SNAPPY_OK) {
    out.resize(start);
    return Error{ErrorCode::kInvalidArgument, "snappy: compression failed"};
  }
  out.resize(start + length);
  return {};
}

// One raw snappy block, appended; `budget` is what the limit still allows.
Result<void> snappyBlock(ByteView block, Bytes& out, size_t budget, size_t max_output) {
  constexpr Compression kCodec = Compression::kSnappy;
  size_t length = 0;
  if (snappy_uncompressed_length(asChars(block.data()), block.size(), &length) != SNAPPY_OK) {
    return corrupt(kCodec, "invalid block length");
  }
  if (length > budget) return overLimit(kCodec, max_output);
  const size_t start = out.size();
  out.resize(start + length);
  if (snappy_uncompress(asChars(block.data()), block.size(), asChars(out.data() + start),
                        &length) != SNAPPY_OK) {
    out.resize(start);
    return corrupt(kCodec, "invalid data");
  }
  return {};
}

Result<void> snappyDecompress(ByteView input, Bytes& out, size_t max_output) {
  constexpr Compression kCodec = Compression::kSnappy;
  const bool xerial = input.size() >= kXerialHeaderSize &&
                      std::equal(kXerialMagic.begin(), kXerialMagic.end(), input.begin());
  if (!xerial) return snappyBlock(input, out, max_output, max_output);
  const size_t start = out.size();
  size_t pos = kXerialHeaderSize;
  while (pos < input.size()) {
    if (input.size() - pos < 4) {
      out.resize(start);
      return corrupt(kCodec, "truncated xerial block length");
    }
    const uint32_t length = (uint32_t{input[pos]} << 24) | (uint32_t{input[pos + 1]} << 16) |
                            (uint32_t{input[pos + 2]} << 8) | uint32_t{input[pos + 3]};
    pos += 4;
    if (length > input.size() - pos) {
      out.resize(start);
      return corrupt(kCodec, "xerial block of " + std::to_string(length) + " bytes exceeds the " +
                                 std::to_string(input.size() - pos) + " that remain");
    }
    auto block =
        snappyBlock(input.subspan(pos, length), out, max_output - (out.size() - start), max_output);
    if (!block.ok()) {
      out.resize(start);
      return block;
    }
    pos += length;
  }
  return {};
}

// ---- lz4 -------------------------------------------------------------------------------------

constexpr std::array<uint8_t, 4> kLz4Magic = {0x04, 0x22, 0x4d, 0x18};

struct Lz4Contexts {
  LZ4F_cctx* compress = nullptr;
  LZ4F_dctx* decompress = nullptr;
  ~Lz4Contexts() {
    if (compress) LZ4F_freeCompressionContext(compress);
    if (decompress) LZ4F_freeDecompressionContext(decompress);
  }
};

Lz4Contexts& lz4Contexts() {
  thread_local Lz4Contexts contexts;
  return contexts;
}

Result<void> lz4Compress(ByteView input, Bytes& out, std::optional<int> level) {
  Lz4Contexts& contexts = lz4Contexts();
  if (!contexts.compress &&
      LZ4F_isError(LZ4F_createCompressionContext(&contexts.compress, LZ4F_VERSION))) {
    return Error{ErrorCode::kInvalidArgument, "lz4: cannot create a compression context"};
  }
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
  prefs.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
  prefs.compressionLevel = level.value_or(0);
  const size_t start = out.size();
  const size_t bound = LZ4F_HEADER_SIZE_MAX + LZ4F_compressBound(input.size(), &prefs);
  out.resize(start + bound);
  uint8_t* dst = out.data() + start;
  size_t pos = 0;
  size_t rc = LZ4F_compressBegin(contexts.compress, dst, bound, &prefs);
  if (!LZ4F_isError(rc)) {
    pos += rc;
    rc = LZ4F_compressUpdate(contexts.compress, dst + pos, bound - pos, input.data(), input.size(),
                             nullptr);
  }
  if (!LZ4F_isError(rc)) {
    pos += rc;
    rc = LZ4F_compressEnd(contexts.compress, dst + pos, bound - pos, nullptr);
  }
  if (LZ4F_isError(rc)) {
    out.resize(start);
    return Error{ErrorCode::kInvalidArgument,
                 std::string("lz4: compression failed: ") + LZ4F_getErrorName(rc)};
  }
  out.resize(start + pos + rc);
  return {};
}

// XXH32 of fewer than 16 bytes (the short-input path of the xxHash specification), enough for an
// lz4 frame descriptor.
uint32_t xxh32Short(const uint8_t* p, size_t n, uint32_t seed) {
  constexpr uint32_t kPrime1 = 2654435761U;
  constexpr uint32_t kPrime2 = 2246822519U;
  constexpr uint32_t kPrime3 = 3266489917U;
  constexpr uint32_t kPrime4 = 668265263U;
  constexpr uint32_t kPrime5 = 374761393U;
  auto rotl = [](uint32_t v, int r) { return (v << r) | (v >> (32 - r)); };
  uint32_t h = seed + kPrime5 + static_cast<uint32_t>(n);
  while (n >= 4) {
    const uint32_t word =
        uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
    h = rotl(h + word * kPrime3, 17) * kPrime4;
    p += 4;
    n -= 4;
  }
  while (n > 0) {
    h = rotl(h + *p++ * kPrime5, 11) * kPrime1;
    --n;
  }
  h ^= h >> 15;
  h *= kPrime2;
  h ^= h >> 13;
  h *= kPrime3;
  h ^= h >> 16;
  return h;
}

Result<void> lz4Decompress(ByteView input, Bytes& out, size_t max_output,
                           Lz4HeaderChecksum checksum) {
  constexpr Compression kCodec = Compression::kLz4;
  Lz4Contexts& contexts = lz4Contexts();
  if (!contexts.decompress &&
      LZ4F_isError(LZ4F_createDecompressionContext(&contexts.decompress, LZ4F_VERSION))) {
    return corrupt(kCodec, "cannot create a decompression context");
  }
  LZ4F_dctx* ctx = contexts.decompress;
  // A context left mid-frame by an earlier failure must start afresh.
  LZ4F_resetDecompressionContext(ctx);

  // The frame header, with its checksum corrected when the writer got it wrong. Fed to the
  // decoder first, so that the (read-only) input need not be copied.
  std::array<uint8_t, 15> header{};
  size_t header_size = 0;
  if (checksum == Lz4HeaderChecksum::kLegacyMagicV0) {
    if (input.size() < 7 || !std::equal(kLz4Magic.begin(), kLz4Magic.end(), input.begin())) {
      return corrupt(kCodec, "invalid frame header");
    }
    const bool has_content_size = (input[4] & 0x08) != 0;
    const size_t descriptor = 2 + (has_content_size ? 8 : 0);
    header_size = 4 + descriptor + 1;
    if (input.size() < header_size) return corrupt(kCodec, "truncated frame header");
    std::copy_n(input.begin(), header_size, header.begin());
    header[header_size - 1] =
        static_cast<uint8_t>((xxh32Short(header.data() + 4, descriptor, 0) >> 8) & 0xff);
  }

  OutputWindow window(out, max_output, input.size() * 4);
  size_t in_pos = 0;
  size_t header_pos = 0;
  size_t hint = 1;
  while (hint != 0) {
    const bool in_header = header_pos < header_size;
    const uint8_t* src = in_header ? header.data() + header_pos : input.data() + in_pos;
    const size_t available = in_header ? header_size - header_pos : input.size() - in_pos;
    if (available == 0) return corrupt(kCodec, "truncated frame");
    const size_t room = window.makeRoom();
    if (room == 0) return overLimit(kCodec, max_output);
    size_t produced = room;
    size_t consumed = available;
    hint = LZ4F_decompress(ctx, window.next(), &produced, src, &consumed, nullptr);
    if (LZ4F_isError(hint)) {
      return corrupt(kCodec, std::string("invalid data: ") + LZ4F_getErrorName(hint));
    }
    window.advance(produced);
    if (window.overLimit()) return overLimit(kCodec, max_output);
    if (in_header) {
      header_pos += consumed;
      if (header_pos == header_size) in_pos = header_size;
    } else {
      in_pos += consumed;
    }
    if (produced == 0 && consumed == 0) return corrupt(kCodec, "decoder made no progress");
  }
  if (in_pos != input.size()) {
    return corrupt(kCodec, std::to_string(input.size() - in_pos) + " bytes after the frame");
  }
  return window.commit();
}

// ---- zstd ------------------------------------------------------------------------------------

struct ZstdContexts {
  ZSTD_CCtx* compress = nullptr;
  ZSTD_DCtx* decompress = nullptr;
  ~ZstdContexts() {
    ZSTD_freeCCtx(compress);
    ZSTD_freeDCtx(decompress);
  }
};

ZstdContexts& zstdContexts() {
  thread_local ZstdContexts contexts;
  return contexts;
}

Result<void> zstdCompress(ByteView input, Bytes& out, std::optional<int> level) {
  ZstdContexts& contexts = zstdContexts();
  if (!contexts.compress) contexts.compress = ZSTD_createCCtx();
  if (!contexts.compress) {
    return Error{ErrorCode::kInvalidArgument, "zstd: cannot create a compression context"};
  }
  const size_t start = out.size();
  const size_t bound = ZSTD_compressBound(input.size());
  out.resize(start + bound);
  const size_t rc = ZSTD_compressCCtx(contexts.compress, out.data() + start, bound, input.data(),
                                      input.size(), level.value_or(ZSTD_CLEVEL_DEFAULT));
  if (ZSTD_isError(rc)) {
    out.resize(start);
    return Error{ErrorCode::kInvalidArgument,
                 std::string("zstd: compression failed: ") + ZSTD_getErrorName(rc)};
  }
  out.resize(start + rc);
  return {};
}

Result<void> zstdDecompress(ByteView input, Bytes& out, size_t max_output) {
  constexpr Compression kCodec = Compression::kZstd;
  ZstdContexts& contexts = zstdContexts();
  if (!contexts.decompress) contexts.decompress = ZSTD_createDCtx();
  if (!contexts.decompress) return corrupt(kCodec, "cannot create a decompression context");
  ZSTD_DCtx_reset(contexts.decompress, ZSTD_reset_session_only);
  const unsigned long long declared = ZSTD_getFrameContentSize(input.data(), input.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR) return corrupt(kCodec, "invalid frame header");
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared > max_output) {
    return overLimit(kCodec, max_output);
  }
  const size_t hint =
      declared == ZSTD_CONTENTSIZE_UNKNOWN ? input.size() * 4 : static_cast<size_t>(declared);
  OutputWindow window(out, max_output, hint);
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  while (true) {
    const size_t room = window.makeRoom();
    if (room == 0) return overLimit(kCodec, max_output);
    ZSTD_outBuffer o{window.next(), room, 0};
    const size_t consumed_before = in.pos;
    const size_t rc = ZSTD_decompressStream(contexts.decompress, &o, &in);
    if (ZSTD_isError(rc)) {
      return corrupt(kCodec, std::string("invalid data: ") + ZSTD_getErrorName(rc));
    }
    window.advance(o.pos);
    if (window.overLimit()) return overLimit(kCodec, max_output);
    if (rc == 0 && in.pos == in.size) return window.commit();
    // Input used up and output not full: the decoder wants bytes the frame does not have.
    if (in.pos == in.size && o.pos < o.size) return corrupt(kCodec, "truncated frame");
    if (o.pos == 0 && in.pos == consumed_before) return corrupt(kCodec, "decoder made no progress");
  }
}

}  // namespace

std::string_view compressionName(Compression codec) {
  switch (codec) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kSnappy:
      return "snappy";
    case Compression::kLz4:
      return "lz4";
    case Compression::kZstd:
      return "zstd";
  }
  return "unknown";
}

Result<void> compress(Compression codec, ByteView input, Bytes& out, std::optional<int> level) {
  switch (codec) {
    case Compression::kNone:
      out.insert(out.end(), input.begin(), input.end());
      return {};
    case Compression::kGzip:
      return gzipCompress(input, out, level);
    case Compression::kSnappy:
      return snappyCompress(input, out);
    case Compression::kLz4:
      return lz4Compress(input, out, level);
    case Compression::kZstd:
      return zstdCompress(input, out, level);
  }
  return Error{ErrorCode::kInvalidArgument,
               "unknown compression codec " + std::to_string(static_cast<int>(codec))};
}

Result<void> decompress(Compression codec, ByteView input, Bytes& out, size_t max_output,
                        Lz4HeaderChecksum lz4_checksum) {
  switch (codec) {
    case Compression::kNone:
      if (input.size() > max_output) return overLimit(codec, max_output);
      out.insert(out.end(), input.begin(), input.end());
      return {};
    case Compression::kGzip:
      return gzipDecompress(input, out, max_output);
    case Compression::kSnappy:
      return snappyDecompress(input, out, max_output);
    case Compression::kLz4:
      return lz4Decompress(input, out, max_output, lz4_checksum);
    case Compression::kZstd:
      return zstdDecompress(input, out, max_output);
  }
  return Error{ErrorCode::kCorruptMessage,
               "unknown compression codec " + std::to_string(static_cast<int>(codec))};
}

}  // namespace kafka::record
