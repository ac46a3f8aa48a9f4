// Primitive codecs of the Kafka wire protocol: fixed-width big-endian integers, (zigzag) varints,
// strings, bytes, array lengths, UUIDs and tagged-field headers, in both classic and compact
// ("flexible version") forms.
//
// Writer appends to a caller-owned buffer. Reader is a bounds-checked cursor over untrusted bytes:
// every length is checked against what remains, overlong or negative varints are rejected, and the
// first failure is remembered (sticky) so that callers may read a whole structure and check once.
// Neither throws nor allocates beyond what the decoded values need.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kafka::protocol {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

// A Kafka UUID (topic ids, etc.): 16 raw bytes. Displayed, as Kafka does, in URL-safe base64.
struct Uuid {
  std::array<uint8_t, 16> bytes{};

  bool isZero() const;
  std::string toString() const;
  bool operator==(const Uuid&) const = default;
};

// Record batches carried by Produce requests and Fetch responses. Encoding writes `data` as
// (nullable) bytes; decoding makes `data` a view into the response frame and keeps the frame
// alive through `owner`, so that fetched records are not copied.
struct Records {
  std::shared_ptr<const Bytes> owner;
  ByteView data;

  static Records copyOf(ByteView bytes);
  bool operator==(const Records& other) const;
};

class Writer {
 public:
  explicit Writer(Bytes& out) : out_(out) {}

  void int8(int8_t v) { out_.push_back(static_cast<uint8_t>(v)); }
  void boolean(bool v) { out_.push_back(v ? 1 : 0); }
  void int16(int16_t v) { be(static_cast<uint16_t>(v)); }
  void uint16(uint16_t v) { be(v); }
  void int32(int32_t v) { be(static_cast<uint32_t>(v)); }
  void uint32(uint32_t v) { be(v); }
  void int64(int64_t v) { be(static_cast<uint64_t>(v)); }
  void float64(double v);
  void unsignedVarint(uint32_t v) { unsignedVarlong(v); }
  void unsignedVarlong(uint64_t v);
  void varint(int32_t v);
  void varlong(int64_t v);
  void uuid(const Uuid& v) { raw(v.bytes); }
  void raw(ByteView bytes) { out_.insert(out_.end(), bytes.begin(), bytes.end()); }

  // Length prefix: int16/int32 in classic form, unsigned varint of length+1 in compact form.
  void string(std::string_view s, bool compact);
  void nullableString(const std::optional<std::string>& s, bool compact);
  void bytes(ByteView b, bool compact);
  void nullBytes(bool compact);
  void arrayLength(size_t n, bool compact);
  void nullArray(bool compact);

  size_t size() const { return out_.size(); }
  // Overwrites 4 bytes at `pos` (e.g. a frame length written after the body).
  void patchInt32(size_t pos, int32_t v);

 private:
  template <class U>
  void be(U v) {
    for (int shift = (sizeof(U) - 1) * 8; shift >= 0; shift -= 8) {
      out_.push_back(static_cast<uint8_t>(v >> shift));
    }
  }

  Bytes& out_;
};

class Reader {
 public:
  // `owner`, when given, is the buffer `data` points into; Records decoded from this reader then
  // share it instead of copying.
  explicit Reader(ByteView data, std::shared_ptr<const Bytes> owner = nullptr)
      : data_(data), owner_(std::move(owner)) {}

  int8_t int8();
  bool boolean();
  int16_t int16();
  uint16_t uint16();
  int32_t int32();
  uint32_t uint32();
  int64_t int64();
  double float64();
  uint32_t unsignedVarint();
  uint64_t unsignedVarlong();
  int32_t varint();
  int64_t varlong();
  Uuid uuid();

  std::string string(bool compact);
  std::optional<std::string> nullableString(bool compact);
  // The length of a bytes field, or nullopt for null (-1). Fails when it exceeds what remains.
  std::optional<size_t> bytesLength(bool compact);
  Bytes bytes(bool compact);
  std::optional<Bytes> nullableBytes(bool compact);
  std::optional<Records> nullableRecords(bool compact);
  // The element count of an array, or nullopt for a null array. A count larger than the bytes
  // that remain cannot be honest (every element takes at least one byte) and fails.
  std::optional<size_t> arrayLength(bool compact);

  // The next `n` bytes, consumed, as a view; empty on failure.
  ByteView take(size_t n);
  // A sub-reader over the next `n` bytes (consumed here), sharing the owner.
  Reader sub(size_t n);

  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  bool ok() const { return error_.empty(); }
  bool done() const { return ok() && remaining() == 0; }
  // The first failure, prefixed by the path of the field being decoded when it happened
  // (e.g. "topics[2].partitions[0].leader_id: int32 needs 4 bytes at offset 80 ...").
  std::string error() const;
  // Records the first failure only; later ones are consequences of it.
  void fail(std::string message);
  // Called while a failure unwinds: prepends a field name (or "[i]") to the error's path.
  void prependPath(std::string_view component);

 private:
  bool need(size_t n, const char* what);

  ByteView data_;
  size_t pos_ = 0;
  std::shared_ptr<const Bytes> owner_;
  std::string error_;
  std::string path_;
};

}  // namespace kafka::protocol
