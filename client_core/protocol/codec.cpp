#include "client_core/protocol/codec.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

namespace kafka::protocol {

bool Uuid::isZero() const {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

std::string Uuid::toString() const {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

Records Records::copyOf(ByteView bytes) {
  auto buffer = std::make_shared<const Bytes>(bytes.begin(), bytes.end());
  return Records{buffer, ByteView(*buffer)};
}

bool Records::operator==(const Records& other) const {
  return std::equal(data.begin(), data.end(), other.data.begin(), other.data.end());
}

void Writer::float64(double v) { int64(std::bit_cast<int64_t>(v)); }

void Writer::unsignedVarlong(uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<uint8_t>(v));
}

void Writer::varint(int32_t v) {
  unsignedVarint((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
}

void Writer::varlong(int64_t v) {
  unsignedVarlong((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void Writer::string(std::string_view s, bool compact) {
  if (compact) {
    unsignedVarint(static_cast<uint32_t>(s.size() + 1));
  } else {
    int16(static_cast<int16_t>(s.size()));
  }
  raw(ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

void Writer::nullableString(const std::optional<std::string>& s, bool compact) {
  if (s) {
    string(*s, compact);
  } else if (compact) {
    unsignedVarint(0);
  } else {
    int16(-1);
  }
}

void Writer::bytes(ByteView b, bool compact) {
  if (compact) {
    unsignedVarint(static_cast<uint32_t>(b.size() + 1));
  } else {
    int32(static_cast<int32_t>(b.size()));
  }
  raw(b);
}

void Writer::nullBytes(bool compact) {
  if (compact) {
    unsignedVarint(0);
  } else {
    int32(-1);
  }
}

void Writer::arrayLength(size_t n, bool compact) {
  if (compact) {
    unsignedVarint(static_cast<uint32_t>(n + 1));
  } else {
    int32(static_cast<int32_t>(n));
  }
}

void Writer::nullArray(bool compact) { nullBytes(compact); }

void Writer::patchInt32(size_t pos, int32_t v) {
  auto u = static_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) out_[pos + i] = static_cast<uint8_t>(u >> (24 - 8 * i));
}

void Reader::fail(std::string message) {
  if (error_.empty()) {
    error_ = std::move(message);
    pos_ = data_.size();  // nothing more is read after a failure
  }
}

std::string Reader::error() const {
  if (path_.empty()) return error_;
  return path_ + ": " + error_;
}

void Reader::prependPath(std::string_view component) {
  const bool separate = !path_.empty() && path_.front() != '[';
  path_ = std::string(component) + (separate ? "." : "") + path_;
}

bool Reader::need(size_t n, const char* what) {
  if (!ok()) return false;
  if (remaining() < n) {
    fail(std::string(what) + " needs " + std::to_string(n) + " bytes at offset " +
         std::to_string(pos_) + " but only " + std::to_string(remaining()) + " remain");
    return false;
  }
  return true;
}

namespace {
template <class U>
U loadBigEndian(const uint8_t* p) {
  U v = 0;
  for (size_t i = 0; i < sizeof(U); ++i) v = static_cast<U>((v << 8) | p[i]);
  return v;
}
}  // namespace

#define KS_READ_FIXED(NAME, TYPE, UTYPE)                                 \
  TYPE Reader::NAME() {                                                  \
    if (!need(sizeof(TYPE), #NAME)) return 0;                            \
    auto v = static_cast<TYPE>(loadBigEndian<UTYPE>(data_.data() + pos_)); \
    pos_ += sizeof(TYPE);                                                \
    return v;                                                            \
  }
KS_READ_FIXED(int8, int8_t, uint8_t)
KS_READ_FIXED(int16, int16_t, uint16_t)
KS_READ_FIXED(uint16, uint16_t, uint16_t)
KS_READ_FIXED(int32, int32_t, uint32_t)
KS_READ_FIXED(uint32, uint32_t, uint32_t)
KS_READ_FIXED(int64, int64_t, uint64_t)
#undef KS_READ_FIXED

bool Reader::boolean() { return int8() != 0; }

double Reader::float64() { return std::bit_cast<double>(int64()); }

uint64_t Reader::unsignedVarlong() {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (!need(1, "varint")) return 0;
    uint8_t b = data_[pos_++];
    // The 10th byte may only carry the top bit of a 64-bit value.
    if (shift == 63 && b > 1) break;
    value |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return value;
  }
  fail("varint longer than 10 bytes or out of range at offset " + std::to_string(pos_));
  return 0;
}

uint32_t Reader::unsignedVarint() {
  uint32_t value = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (!need(1, "varint")) return 0;
    uint8_t b = data_[pos_++];
    if (shift == 28 && b > 0x0f) break;  // the 5th byte carries only 4 bits of a 32-bit value
    value |= static_cast<uint32_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return value;
  }
  fail("varint longer than 5 bytes or out of range at offset " + std::to_string(pos_));
  return 0;
}

int32_t Reader::varint() {
  uint32_t u = unsignedVarint();
  return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
}

int64_t Reader::varlong() {
  uint64_t u = unsignedVarlong();
  return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

Uuid Reader::uuid() {
  Uuid u;
  ByteView b = take(16);
  if (b.size() == 16) std::copy(b.begin(), b.end(), u.bytes.begin());
  return u;
}

ByteView Reader::take(size_t n) {
  if (!need(n, "field")) return {};
  ByteView view = data_.subspan(pos_, n);
  pos_ += n;
  return view;
}

Reader Reader::sub(size_t n) {
  ByteView view = take(n);
  Reader r(view, owner_);
  if (!ok()) r.fail(error_);
  return r;
}

std::optional<size_t> Reader::bytesLength(bool compact) {
  int64_t length;
  if (compact) {
    length = static_cast<int64_t>(unsignedVarint()) - 1;
  } else {
    length = int32();
  }
  if (!ok()) return std::nullopt;
  if (length < -1) {
    fail("negative length " + std::to_string(length) + " at offset " + std::to_string(pos_));
    return std::nullopt;
  }
  if (length == -1) return std::nullopt;
  if (static_cast<uint64_t>(length) > remaining()) {
    fail("length " + std::to_string(length) + " at offset " + std::to_string(pos_) +
         " exceeds the " + std::to_string(remaining()) + " bytes that remain");
    return std::nullopt;
  }
  return static_cast<size_t>(length);
}

std::optional<std::string> Reader::nullableString(bool compact) {
  std::optional<size_t> length;
  if (compact) {
    length = bytesLength(true);
  } else {
    int16_t n = int16();
    if (!ok()) return std::nullopt;
    if (n < -1) {
      fail("negative string length " + std::to_string(n) + " at offset " + std::to_string(pos_));
      return std::nullopt;
    }
    if (n >= 0) {
      if (static_cast<size_t>(n) > remaining()) {
        fail("string length " + std::to_string(n) + " at offset " + std::to_string(pos_) +
             " exceeds the " + std::to_string(remaining()) + " bytes that remain");
        return std::nullopt;
      }
      length = static_cast<size_t>(n);
    }
  }
  if (!length) return std::nullopt;
  ByteView b = take(*length);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string Reader::string(bool compact) {
  size_t at = pos_;
  std::optional<std::string> s = nullableString(compact);
  if (!s) {
    if (ok()) fail("null string at offset " + std::to_string(at) + " where null is not allowed");
    return {};
  }
  return std::move(*s);
}

std::optional<Bytes> Reader::nullableBytes(bool compact) {
  std::optional<size_t> length = bytesLength(compact);
  if (!length) return std::nullopt;
  ByteView b = take(*length);
  return Bytes(b.begin(), b.end());
}

Bytes Reader::bytes(bool compact) {
  size_t at = pos_;
  std::optional<Bytes> b = nullableBytes(compact);
  if (!b) {
    if (ok()) fail("null bytes at offset " + std::to_string(at) + " where null is not allowed");
    return {};
  }
  return std::move(*b);
}

std::optional<Records> Reader::nullableRecords(bool compact) {
  std::optional<size_t> length = bytesLength(compact);
  if (!length) return std::nullopt;
  ByteView b = take(*length);
  if (owner_) return Records{owner_, b};
  return Records::copyOf(b);
}

std::optional<size_t> Reader::arrayLength(bool compact) {
  size_t at = pos_;
  std::optional<size_t> n = bytesLength(compact);
  if (!n && ok()) return std::nullopt;
  if (!ok()) {
    error_ = "array count at offset " + std::to_string(at) + ": " + error_;
    return std::nullopt;
  }
  return n;
}

}  // namespace kafka::protocol
