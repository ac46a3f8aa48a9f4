// Golden frames for unit tests: the bytes other Kafka implementations put on the wire (requests
// of kcat and kafka-python, responses of librdkafka's mock broker), captured by
// tests/golden/capture.py and listed in tests/golden/MANIFEST.txt, and their decoding with our
// definitions. Read once per test binary; plain data.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "client_core/protocol/header.hpp"

namespace kafka::protocol::testing {

inline const std::string kGoldenDir = std::string(KS_SOURCE_DIR) + "/tests/golden/";

struct GoldenFrame {
  std::string file;
  int16_t api_key = 0;
  int16_t version = 0;
  bool request = false;
  std::string producer;  // kcat, kafka-python or mock
  int16_t answers = -1;  // responses: the version of the request answered
  bool reject = false;   // a frame the peer got wrong: it must fail to decode
  Bytes bytes;           // the whole frame, length prefix included

  ByteView body() const { return ByteView(bytes).subspan(4); }
};

inline Bytes readHex(const std::string& path) {
  std::ifstream in(path);
  Bytes out;
  std::string digits;
  char c;
  while (in.get(c)) {
    if (std::isxdigit(static_cast<unsigned char>(c))) digits.push_back(c);
  }
  for (size_t i = 0; i + 1 < digits.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  }
  return out;
}

inline std::vector<GoldenFrame> loadManifest() {
  std::vector<GoldenFrame> frames;
  std::ifstream in(kGoldenDir + "MANIFEST.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    GoldenFrame f;
    std::string api_name, direction, answers, expect;
    fields >> f.file >> f.api_key >> api_name >> f.version >> direction >> f.producer >> answers >>
        expect;
    f.request = direction == "request";
    f.answers = answers == "-" ? int16_t{-1} : static_cast<int16_t>(std::stoi(answers));
    f.reject = expect == "reject";
    f.bytes = readHex(kGoldenDir + f.file);
    frames.push_back(std::move(f));
  }
  return frames;
}

inline const std::vector<GoldenFrame>& golden() {
  static const std::vector<GoldenFrame> frames = loadManifest();
  return frames;
}

// The manifest's entry for `file`; a test failure when it has none.
inline const GoldenFrame& goldenFile(const std::string& file) {
  for (const GoldenFrame& f : golden()) {
    if (f.file == file) return f;
  }
  ADD_FAILURE() << file << " is not in MANIFEST.txt";
  static const GoldenFrame kMissing;
  return kMissing;
}

// Decodes a golden request: header, then body, both checked to consume the frame.
template <ApiDefinition A>
typename A::Request decodeRequest(const GoldenFrame& f, RequestHeader* header_out = nullptr) {
  Reader r(f.body());
  auto header = decodeRequestHeader(r, requestHeaderVersion(A::kKey, isFlexible<A>(f.version)));
  EXPECT_TRUE(header.ok()) << f.file << ": " << header.error().toString();
  if (!header) return {};
  auto request = decodeRequestBody<A>(r, f.version);
  EXPECT_TRUE(request.ok()) << f.file << ": " << request.error().toString();
  if (header_out) *header_out = *header;
  return request ? *request : typename A::Request{};
}

template <ApiDefinition A>
typename A::Response decodeResponse(const GoldenFrame& f) {
  auto response = decodeResponseFrame<A>(f.body(), f.version);
  EXPECT_TRUE(response.ok()) << f.file << ": " << response.error().toString();
  return response ? *response : typename A::Response{};
}

}  // namespace kafka::protocol::testing
