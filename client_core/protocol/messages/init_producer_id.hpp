// InitProducerId (key 22): obtains a producer id and epoch for an idempotent or transactional
// producer, or bumps the epoch of one it already holds (v3+). Used by the producer's idempotence
// manager.
//
// Versions 0-5; flexible from 2. Later versions only add error codes the caller must expect:
// PRODUCER_FENCED (v4), TRANSACTION_ABORTABLE (v5).
// Plain data: no executor, owned by whoever builds or decodes the message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct InitProducerIdRequest {
  // Must be null for an idempotent producer that is not transactional; the schema's default is
  // the empty string.
  std::optional<std::string> transactional_id = "";
  int32_t transaction_timeout_ms = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = InitProducerIdRequest;
    return std::tuple{
        field("transactional_id", &R::transactional_id, since(0), {.nullable = since(0)}),
        field("transaction_timeout_ms", &R::transaction_timeout_ms, since(0)),
        field("producer_id", &R::producer_id, since(3)),
        field("producer_epoch", &R::producer_epoch, since(3))};
  }
  bool operator==(const InitProducerIdRequest&) const = default;
};

struct InitProducerIdResponse {
  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = 0;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = InitProducerIdResponse;
    return std::tuple{field("throttle_time_ms", &R::throttle_time_ms, since(0)),
                      field("error_code", &R::error_code, since(0)),
                      field("producer_id", &R::producer_id, since(0)),
                      field("producer_epoch", &R::producer_epoch, since(0))};
  }
  bool operator==(const InitProducerIdResponse&) const = default;
};

struct InitProducerIdApi {
  static constexpr ApiKey kKey = ApiKey::kInitProducerId;
  static constexpr std::string_view kName = "InitProducerId";
  static constexpr int16_t kMinVersion = 0;
  static constexpr int16_t kMaxVersion = 5;
  static constexpr int16_t kFirstFlexibleVersion = 2;
  using Request = InitProducerIdRequest;
  using Response = InitProducerIdResponse;
};

}  // namespace kafka::protocol
