// What the protocol fuzz targets share: how an input picks the API and version, and the round
// trip every successfully decoded message must survive.
//
// Input layout: bytes 0-1 the API key (int16, big-endian), byte 2 the version (int8), then a frame
// body (the bytes after the length prefix: header, then message). The seed corpus in
// tests/fuzz/corpus/ is written in this layout by tests/golden/capture.py.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "client_core/protocol/dispatch.hpp"

namespace kafka::protocol::fuzz {

struct FuzzInput {
  ApiKey key;
  int16_t version;
  ByteView frame_body;
};

inline std::optional<FuzzInput> splitInput(const uint8_t* data, size_t size) {
  if (size < 3) return std::nullopt;
  const auto key = static_cast<int16_t>((data[0] << 8) | data[1]);
  return FuzzInput{static_cast<ApiKey>(key), static_cast<int8_t>(data[2]),
                   ByteView(data + 3, size - 3)};
}

// A decoded message re-encodes to bytes that decode again and re-encode to the same bytes.
// (The first encoding may differ from the input: inputs need not be canonical.)
inline void requireStableEncoding(const Bytes& first, const Bytes& second, const char* what) {
  if (first != second) {
    std::fprintf(stderr, "%s: re-encoding a decoded message is not stable (%zu vs %zu bytes)\n",
                 what, first.size(), second.size());
    std::abort();
  }
}

}  // namespace kafka::protocol::fuzz
