// SaslHandshake (key 17): the first step of SASL authentication on a connection. The client names
// the mechanism it wants; the broker answers with the mechanisms it enables.
//
// Versions 0-1; never flexible (the version cannot be bumped without breaking old clients, so it
// never gained tagged fields). After a v0 handshake the SASL tokens follow as bare length-prefixed
// frames with no Kafka header; after v1 they travel in SaslAuthenticate requests, which is what we
// use. librdkafka's mock broker does not serve this API.
// Plain data: no executor, owned by whoever builds or decodes the message.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct SaslHandshakeRequest {
  std::string mechanism;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = SaslHandshakeRequest;
    return std::tuple{field("mechanism", &R::mechanism, since(0))};
  }
  bool operator==(const SaslHandshakeRequest&) const = default;
};

struct SaslHandshakeResponse {
  int16_t error_code = 0;
  std::vector<std::string> mechanisms;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = SaslHandshakeResponse;
    return std::tuple{field("error_code", &R::error_code, since(0)),
                      field("mechanisms", &R::mechanisms, since(0))};
  }
  bool operator==(const SaslHandshakeResponse&) const = default;
};

struct SaslHandshakeApi {
  static constexpr ApiKey kKey = ApiKey::kSaslHandshake;
  static constexpr std::string_view kName = "SaslHandshake";
  static constexpr int16_t kMinVersion = 0;
  static constexpr int16_t kMaxVersion = 1;
  // No version is flexible.
  static constexpr int16_t kFirstFlexibleVersion = kNoMaxVersion;
  using Request = SaslHandshakeRequest;
  using Response = SaslHandshakeResponse;
};

}  // namespace kafka::protocol
