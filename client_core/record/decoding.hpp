// Internal to client_core/record: the pieces RecordBatchReader's v2 and legacy decoders share.
// A bounds-checked cursor over untrusted bytes (fixed-width big-endian integers and Kafka's
// zigzag varints, overlong ones rejected), and error builders naming the batch at fault.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "client_core/protocol/codec.hpp"
#include "client_core/protocol/result.hpp"
#include "client_core/record/record_batch.hpp"
#include "client_core/record/record_batch_reader.hpp"

namespace kafka::record::detail {

class Cursor {
 public:
  explicit Cursor(protocol::ByteView data) : p_(data.data()), end_(data.data() + data.size()) {}

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

  // Each returns false, consuming nothing, when the bytes are not there or not valid.
  template <class T>
  bool fixed(T& v) {
    if (remaining() < sizeof(T)) return false;
    uint64_t u = 0;
    for (size_t i = 0; i < sizeof(T); ++i) u = (u << 8) | p_[i];
    v = static_cast<T>(u);
    p_ += sizeof(T);
    return true;
  }
  bool varint(int32_t& v) {
    uint64_t u = 0;
    if (!unsignedVarint(u, 5)) return false;
    const uint32_t w = static_cast<uint32_t>(u);
    v = static_cast<int32_t>((w >> 1) ^ (~(w & 1) + 1));
    return true;
  }
  bool varlong(int64_t& v) {
    uint64_t u = 0;
    if (!unsignedVarint(u, 10)) return false;
    v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return true;
  }
  bool take(size_t n, protocol::ByteView& out) {
    if (remaining() < n) return false;
    out = protocol::ByteView(p_, n);
    p_ += n;
    return true;
  }
  // The bytes of a nullable field whose length (-1 for null) was just read. On failure `error`
  // names `what` and the fault.
  bool takeNullable(int32_t length, std::optional<protocol::ByteView>& out, const char* what,
                    std::string& error) {
    if (length < -1) {
      error = std::string("negative ") + what + " length " + std::to_string(length);
      return false;
    }
    if (length == -1) {
      out.reset();
      return true;
    }
    protocol::ByteView bytes;
    if (!take(static_cast<size_t>(length), bytes)) {
      error = std::string(what) + " length " + std::to_string(length) + " exceeds the " +
              std::to_string(remaining()) + " bytes that remain";
      return false;
    }
    out = bytes;
    return true;
  }

 private:
  // At most `max_bytes` bytes; the last may only carry the bits that fit (4 of 32, 1 of 64).
  bool unsignedVarint(uint64_t& out, int max_bytes) {
    uint64_t value = 0;
    const uint8_t* p = p_;
    for (int i = 0; i < max_bytes; ++i) {
      if (p == end_) return false;
      const uint8_t b = *p++;
      if (i == max_bytes - 1 && b > (max_bytes == 5 ? 0x0f : 0x01)) return false;
      value |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) {
        out = value;
        p_ = p;
        return true;
      }
    }
    return false;
  }

  const uint8_t* p_;
  const uint8_t* end_;
};

// Offsets and timestamps from the network are added modulo 2^64: hostile values must not be
// undefined behaviour.
inline int64_t wrappingSum(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
inline int64_t wrappingDifference(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

// "0x1a2b3c4d", for CRCs in error messages.
std::string hex32(uint32_t value);

inline Error batchError(ErrorCode code, int64_t base_offset, const std::string& what) {
  return Error{code, "record batch at offset " + std::to_string(base_offset) + ": " + what};
}

// Decodes one complete v2 batch (`bytes` is exactly its baseOffset..end) into `batch`.
Result<void> decodeBatchV2(protocol::ByteView bytes, const DecodeOptions& options,
                           const std::shared_ptr<const void>& owner, RecordBatch& batch);

// Decodes one complete legacy (magic 0 or 1) top-level message (`bytes` is exactly its
// offset..end) into `batch`, expanding a compressed wrapper into its inner messages.
Result<void> decodeLegacyMessage(protocol::ByteView bytes, const DecodeOptions& options,
                                 const std::shared_ptr<const void>& owner, RecordBatch& batch);

}  // namespace kafka::record::detail
