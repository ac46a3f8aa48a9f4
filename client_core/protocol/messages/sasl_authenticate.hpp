// SaslAuthenticate (key 36): carries one SASL token each way, after a v1 SaslHandshake, until the
// mechanism completes (one round for PLAIN, two for SCRAM).
//
// Versions 0-2; flexible from 2. v1+ responses tell how long the session may last before the
// client must authenticate again on the same connection (0: no limit). Tokens hold credentials:
// never log `auth_bytes`. librdkafka's mock broker does not serve this API.
// Plain data: no executor, owned by whoever builds or decodes the message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct SaslAuthenticateRequest {
  Bytes auth_bytes;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = SaslAuthenticateRequest;
    return std::tuple{field("auth_bytes", &R::auth_bytes, since(0))};
  }
  bool operator==(const SaslAuthenticateRequest&) const = default;
};

struct SaslAuthenticateResponse {
  int16_t error_code = 0;
  std::optional<std::string> error_message = "";
  Bytes auth_bytes;
  int64_t session_lifetime_ms = 0;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = SaslAuthenticateResponse;
    return std::tuple{field("error_code", &R::error_code, since(0)),
                      field("error_message", &R::error_message, since(0), {.nullable = since(0)}),
                      field("auth_bytes", &R::auth_bytes, since(0)),
                      field("session_lifetime_ms", &R::session_lifetime_ms, since(1))};
  }
  bool operator==(const SaslAuthenticateResponse&) const = default;
};

struct SaslAuthenticateApi {
  static constexpr ApiKey kKey = ApiKey::kSaslAuthenticate;
  static constexpr std::string_view kName = "SaslAuthenticate";
  static constexpr int16_t kMinVersion = 0;
  static constexpr int16_t kMaxVersion = 2;
  static constexpr int16_t kFirstFlexibleVersion = 2;
  using Request = SaslAuthenticateRequest;
  using Response = SaslAuthenticateResponse;
};

}  // namespace kafka::protocol
