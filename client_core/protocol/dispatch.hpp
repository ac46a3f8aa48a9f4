// Run-time dispatch on an API key: finds the API definition for a key read from the wire (or
// picked by a fuzzer) and checks the version against the range we define, so that a message can
// be decoded when its API is known only at run time. Used by the fuzz targets, the hostile-input
// tests and fake brokers. Stateless free functions, callable from any thread.
#pragma once

#include <cstdint>
#include <string>

#include "client_core/protocol/header.hpp"
#include "client_core/protocol/messages/all.hpp"

namespace kafka::protocol {

// Calls f.template operator()<A>() with the definition A of API `key`, provided that `version`
// lies in A's range; returns its result. Fails with kUnsupportedApi ("unknown API key 9999") or
// kUnsupportedVersion ("Metadata v14 is outside the versions we define, 0-13") otherwise. F must
// return Result<void>.
template <class F>
Result<void> withApi(ApiKey key, int16_t version, F&& f) {
  bool found = false;
  Result<void> result;
  forEachApi([&]<class A>() {
    if (A::kKey != key) return;
    found = true;
    if (version < A::kMinVersion || version > A::kMaxVersion) {
      result = Error{ErrorCode::kUnsupportedVersion,
                     std::string(A::kName) + " v" + std::to_string(version) +
                         " is outside the versions we define, " + std::to_string(A::kMinVersion) +
                         "-" + std::to_string(A::kMaxVersion)};
      return;
    }
    result = f.template operator()<A>();
  });
  if (!found) {
    return Error{ErrorCode::kUnsupportedApi,
                 "unknown API key " + std::to_string(static_cast<int16_t>(key))};
  }
  return result;
}

// Decodes a response frame body (the bytes after the length prefix: header, then message) of
// API `key` at `version`, and discards the value: succeeds exactly when decodeResponseFrame<A>
// would.
Result<void> decodeResponseByKey(ApiKey key, int16_t version, ByteView frame_body);

// Decodes a request frame body (header, then message) of API `key` at `version`. The header must
// name the same key and version.
Result<void> decodeRequestByKey(ApiKey key, int16_t version, ByteView frame_body);

}  // namespace kafka::protocol
