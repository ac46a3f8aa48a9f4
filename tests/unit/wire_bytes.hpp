// Helpers for message tests that compare our encoding with bytes worked out by hand from the
// protocol specification, and that restrict round trips to the versions a sample's fields exist in.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "client_core/protocol/header.hpp"

namespace kafka::protocol::testing {

// A UUID whose bytes count up from `first`, easy to spot in expected bytes.
inline Uuid sequentialUuid(uint8_t first) {
  Uuid id;
  for (uint8_t i = 0; i < 16; ++i) id.bytes[i] = static_cast<uint8_t>(first + i);
  return id;
}

// One group of hand-written bytes: numbers, raw bytes, or the characters of a string (without its
// terminator).
class WirePiece {
 public:
  WirePiece(std::initializer_list<uint8_t> bytes) : bytes_(bytes) {}      // NOLINT: implicit
  WirePiece(Bytes bytes) : bytes_(std::move(bytes)) {}                    // NOLINT: implicit
  WirePiece(std::string_view text) : bytes_(text.begin(), text.end()) {}  // NOLINT: implicit
  WirePiece(const char* text) : WirePiece(std::string_view(text)) {}      // NOLINT: implicit

  const Bytes& bytes() const { return bytes_; }

 private:
  Bytes bytes_;
};

// Concatenates pieces, so that an expected message reads field by field:
// wire({{0, 1}, "g", {0, 0, 0, 5}}) is the string "g" then the int32 5.
inline Bytes wire(std::initializer_list<WirePiece> pieces) {
  Bytes out;
  for (const WirePiece& piece : pieces) {
    out.insert(out.end(), piece.bytes().begin(), piece.bytes().end());
  }
  return out;
}

// Checks a message body (no header) both ways against hand-computed bytes: our encoding must equal
// them, and decoding them must give back the message.
template <ApiDefinition A, class T>
void expectWireBytes(const T& message, int16_t version, const Bytes& expected) {
  SCOPED_TRACE(std::string(A::kName) + " v" + std::to_string(version));
  const SchemaContext ctx{version, isFlexible<A>(version)};
  Bytes encoded;
  Writer w(encoded);
  encodeMessage(w, message, ctx);
  EXPECT_EQ(encoded, expected);
  Reader r(expected);
  auto decoded = decodeMessage<T>(r, ctx, A::kName);
  ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
  EXPECT_TRUE(*decoded == message);
}

// An API's traits narrowed to versions [Min, Max]. expectRoundTripAllVersions over it round-trips
// every version of the range and checks that nothing of the samples is lost at Max, for samples
// that set fields an API's newest version no longer has.
template <ApiDefinition A, int16_t Min, int16_t Max>
struct VersionRange : A {
  static_assert(A::kMinVersion <= Min && Min <= Max && Max <= A::kMaxVersion);
  static constexpr int16_t kMinVersion = Min;
  static constexpr int16_t kMaxVersion = Max;
};

}  // namespace kafka::protocol::testing
