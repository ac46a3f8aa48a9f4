#include "client_core/record/crc32c.hpp"

#include <array>
#include <cstddef>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define KS_CRC32C_X86 1
#endif

namespace kafka::record {
namespace {

// The reflected Castagnoli polynomial.
constexpr uint32_t kPolynomial = 0x82F63B78;

using Tables = std::array<std::array<uint32_t, 256>, 8>;

// tables[0] is the classic byte-at-a-time table; tables[k][b] is the CRC contribution of byte b
// followed by k zero bytes, which lets the loop fold eight bytes per step.
constexpr Tables makeTables() {
  Tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t crc = b;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? kPolynomial : 0);
    t[0][b] = crc;
  }
  for (size_t k = 1; k < t.size(); ++k) {
    for (uint32_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
  }
  return t;
}

constexpr Tables kTables = makeTables();

inline uint64_t loadLittleEndian64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

#ifdef KS_CRC32C_X86
#if defined(__x86_64__)
// The crc32 instruction takes three cycles but can start one per cycle, so long inputs run as
// three interleaved streams over consecutive blocks, whose registers are then combined. The CRC
// register is linear: running it over n more bytes maps a register r to shift_n(r) XOR (the
// register run over those bytes from 0). So the register after blocks A, B, C is
// shift_B(shift_B(a) ^ b) ^ c, where a, b and c are the three streams' registers.
constexpr size_t kStreamBlock = 256;

// shift_kStreamBlock as four byte-indexed tables: the shift of each byte value at each place.
using ShiftTables = std::array<std::array<uint32_t, 256>, 4>;

__attribute__((target("sse4.2"))) ShiftTables makeShiftTables() {
  ShiftTables t{};
  for (size_t place = 0; place < t.size(); ++place) {
    for (uint32_t b = 0; b < 256; ++b) {
      uint64_t r = b << (8 * place);
      for (size_t i = 0; i < kStreamBlock; i += 8) r = _mm_crc32_u64(r, 0);
      t[place][b] = static_cast<uint32_t>(r);
    }
  }
  return t;
}

inline uint32_t shiftOneBlock(const ShiftTables& t, uint32_t r) {
  return t[0][r & 0xff] ^ t[1][(r >> 8) & 0xff] ^ t[2][(r >> 16) & 0xff] ^ t[3][r >> 24];
}

__attribute__((target("sse4.2"))) uint64_t threeStreams(const uint8_t*& p, size_t& n, uint64_t a) {
  static const ShiftTables tables = makeShiftTables();
  while (n >= 3 * kStreamBlock) {
    uint64_t b = 0;
    uint64_t c = 0;
    for (size_t i = 0; i < kStreamBlock; i += 8) {
      uint64_t wa;
      uint64_t wb;
      uint64_t wc;
      std::memcpy(&wa, p + i, 8);
      std::memcpy(&wb, p + kStreamBlock + i, 8);
      std::memcpy(&wc, p + 2 * kStreamBlock + i, 8);
      a = _mm_crc32_u64(a, wa);
      b = _mm_crc32_u64(b, wb);
      c = _mm_crc32_u64(c, wc);
    }
    const uint32_t ab = shiftOneBlock(tables, static_cast<uint32_t>(a)) ^ static_cast<uint32_t>(b);
    a = shiftOneBlock(tables, ab) ^ static_cast<uint32_t>(c);
    p += 3 * kStreamBlock;
    n -= 3 * kStreamBlock;
  }
  return a;
}
#endif

__attribute__((target("sse4.2"))) uint32_t hardwareCrc(const uint8_t* p, size_t n, uint32_t crc) {
  uint32_t c = ~crc;
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = _mm_crc32_u8(c, *p++);
    --n;
  }
#if defined(__x86_64__)
  uint64_t wide = threeStreams(p, n, c);
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof word);
    wide = _mm_crc32_u64(wide, word);
    p += 8;
    n -= 8;
  }
  c = static_cast<uint32_t>(wide);
#endif
  while (n >= 4) {
    uint32_t word;
    std::memcpy(&word, p, sizeof word);
    c = _mm_crc32_u32(c, word);
    p += 4;
    n -= 4;
  }
  while (n > 0) {
    c = _mm_crc32_u8(c, *p++);
    --n;
  }
  return ~c;
}
#endif

bool detectHardware() {
#ifdef KS_CRC32C_X86
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

}  // namespace

uint32_t crc32cPortable(protocol::ByteView data, uint32_t crc) {
  const uint8_t* p = data.data();
  size_t n = data.size();
  uint32_t c = ~crc;
  while (n >= 8) {
    uint64_t word = loadLittleEndian64(p) ^ c;
    c = kTables[7][word & 0xff] ^ kTables[6][(word >> 8) & 0xff] ^ kTables[5][(word >> 16) & 0xff] ^
        kTables[4][(word >> 24) & 0xff] ^ kTables[3][(word >> 32) & 0xff] ^
        kTables[2][(word >> 40) & 0xff] ^ kTables[1][(word >> 48) & 0xff] ^ kTables[0][word >> 56];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c = (c >> 8) ^ kTables[0][(c ^ *p++) & 0xff];
    --n;
  }
  return ~c;
}

bool crc32cHardwareAvailable() {
  static const bool available = detectHardware();
  return available;
}

uint32_t crc32cHardware(protocol::ByteView data, uint32_t crc) {
#ifdef KS_CRC32C_X86
  return hardwareCrc(data.data(), data.size(), crc);
#else
  return crc32cPortable(data, crc);
#endif
}

uint32_t crc32c(protocol::ByteView data, uint32_t crc) {
  return crc32cHardwareAvailable() ? crc32cHardware(data, crc) : crc32cPortable(data, crc);
}

}  // namespace kafka::record
