// CRC-32C (Castagnoli), the checksum of RecordBatch v2: it covers a batch from its attributes
// field to its end.
//
// crc32c() uses the SSE4.2 crc32 instruction when the CPU has it (checked once, at first use;
// three interleaved streams on long inputs) and a table-driven slice-by-8 loop otherwise. Both
// paths are exposed so that tests can compare them.
// Pure functions, callable from any thread.
#pragma once

#include <cstdint>

#include "client_core/protocol/codec.hpp"

namespace kafka::record {

// Extends `crc` (the CRC of the bytes before `data`; 0 to start) over `data`.
uint32_t crc32c(protocol::ByteView data, uint32_t crc = 0);

// The portable slice-by-8 implementation.
uint32_t crc32cPortable(protocol::ByteView data, uint32_t crc = 0);

// Whether this CPU runs crc32cHardware().
bool crc32cHardwareAvailable();
// The SSE4.2 implementation. Only valid when crc32cHardwareAvailable().
uint32_t crc32cHardware(protocol::ByteView data, uint32_t crc = 0);

}  // namespace kafka::record
