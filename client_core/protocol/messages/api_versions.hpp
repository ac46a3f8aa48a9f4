// ApiVersions (key 18): which APIs and versions a broker serves. Sent first on every connection.
// Versions 0-4; flexible from 3. Responses always use response header v0 (see header.hpp).
#pragma once

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct ApiVersionsRequest {
  std::string client_software_name;
  std::string client_software_version;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = ApiVersionsRequest;
    return std::tuple{field("client_software_name", &R::client_software_name, since(3)),
                      field("client_software_version", &R::client_software_version, since(3))};
  }
  bool operator==(const ApiVersionsRequest&) const = default;
};

struct ApiVersionsResponse {
  struct ApiVersion {
    int16_t api_key = 0;
    int16_t min_version = 0;
    int16_t max_version = 0;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = ApiVersion;
      return std::tuple{field("api_key", &R::api_key, since(0)),
                        field("min_version", &R::min_version, since(0)),
                        field("max_version", &R::max_version, since(0))};
    }
    bool operator==(const ApiVersion&) const = default;
  };
  struct SupportedFeature {
    std::string name;
    int16_t min_version = 0;
    int16_t max_version = 0;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = SupportedFeature;
      return std::tuple{field("name", &R::name, since(3)),
                        field("min_version", &R::min_version, since(3)),
                        field("max_version", &R::max_version, since(3))};
    }
    bool operator==(const SupportedFeature&) const = default;
  };
  struct FinalizedFeature {
    std::string name;
    int16_t max_version_level = 0;
    int16_t min_version_level = 0;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = FinalizedFeature;
      return std::tuple{field("name", &R::name, since(3)),
                        field("max_version_level", &R::max_version_level, since(3)),
                        field("min_version_level", &R::min_version_level, since(3))};
    }
    bool operator==(const FinalizedFeature&) const = default;
  };

  int16_t error_code = 0;
  std::vector<ApiVersion> api_keys;
  int32_t throttle_time_ms = 0;
  std::vector<SupportedFeature> supported_features;
  int64_t finalized_features_epoch = -1;
  std::vector<FinalizedFeature> finalized_features;
  bool zk_migration_ready = false;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = ApiVersionsResponse;
    return std::tuple{
        field("error_code", &R::error_code, since(0)),
        field("api_keys", &R::api_keys, since(0)),
        field("throttle_time_ms", &R::throttle_time_ms, since(1)),
        field("supported_features", &R::supported_features, since(3), {.tag = 0}),
        field("finalized_features_epoch", &R::finalized_features_epoch, since(3), {.tag = 1}),
        field("finalized_features", &R::finalized_features, since(3), {.tag = 2}),
        field("zk_migration_ready", &R::zk_migration_ready, since(3), {.tag = 3})};
  }
  bool operator==(const ApiVersionsResponse&) const = default;
};

struct ApiVersionsApi {
  static constexpr ApiKey kKey = ApiKey::kApiVersions;
  static constexpr std::string_view kName = "ApiVersions";
  static constexpr int16_t kMinVersion = 0;
  static constexpr int16_t kMaxVersion = 4;
  static constexpr int16_t kFirstFlexibleVersion = 3;
  using Request = ApiVersionsRequest;
  using Response = ApiVersionsResponse;
};

}  // namespace kafka::protocol
