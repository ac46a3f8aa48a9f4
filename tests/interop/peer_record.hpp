// Records as the interop tests compare them, and the text forms in which they travel to and
// from the peers: kafka_python_peer.py's line format, and kcat's -J JSON lines.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "client_core/protocol/codec.hpp"
#include "client_core/record/compression.hpp"

namespace kafka::interop {

inline const std::string kPythonPeer = KS_SOURCE_DIR "/tests/interop/kafka_python_peer.py";
inline constexpr record::Compression kCodecs[] = {
    record::Compression::kNone, record::Compression::kGzip, record::Compression::kSnappy,
    record::Compression::kLz4, record::Compression::kZstd};

std::string codecName(record::Compression codec);

// A record as produced or consumed, with owned bytes; nullopt is null.
struct PeerRecord {
  int64_t offset = 0;
  int64_t timestamp = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  bool operator==(const PeerRecord&) const = default;
};

std::optional<std::string> copyOf(const std::optional<protocol::ByteView>& bytes);

// For gtest's messages: bytes outside printable ASCII as \xNN.
void PrintTo(const PeerRecord& r, std::ostream* os);

// kafka_python_peer.py's format: one record per line (see the script's docstring).
std::string toLines(const std::vector<PeerRecord>& records);
// Fails the current test on a malformed line.
std::vector<PeerRecord> fromLines(const std::string& text);

// kcat -J output, one JSON object per line, bytes exactly as stored (kcat writes key, payload
// and header values as JSON strings, raw bytes included, or null). Fails the current test on a
// malformed line or a record that is not CreateTime.
std::vector<PeerRecord> fromKcatJson(const std::string& text);

// Compressible filler: producers send a batch uncompressed when compression does not pay.
std::string filler(int i);

int64_t nowMs();

}  // namespace kafka::interop
