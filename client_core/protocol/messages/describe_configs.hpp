// DescribeConfigs (key 32): the configuration of topics, brokers, broker loggers, client-metrics
// subscriptions or groups. Used by the Admin service.
//
// Versions 1-4; flexible from 4. Kafka 4.0 removed v0. v1+ can ask for synonyms (the same setting
// at other levels: topic, broker, default) and report where each value comes from; v3+ report the
// type and, on request, the documentation of each setting. A broker answers for its own BROKER and
// BROKER_LOGGER resources only, so those must be sent to that broker; other resources go to any.
// librdkafka's mock broker does not serve this API.
// Plain data: no executor, owned by whoever builds or decodes the message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

// The resource_type values of DescribeConfigs (and the other config APIs).
namespace config_resource {
inline constexpr int8_t kTopic = 2;
inline constexpr int8_t kBroker = 4;
inline constexpr int8_t kBrokerLogger = 8;
inline constexpr int8_t kClientMetrics = 16;
inline constexpr int8_t kGroup = 32;
}  // namespace config_resource

struct DescribeConfigsRequest {
  struct Resource {
    int8_t resource_type = 0;
    std::string resource_name;
    // Null for every key of the resource.
    std::optional<std::vector<std::string>> configuration_keys = std::vector<std::string>{};
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Resource;
      return std::tuple{
          field("resource_type", &R::resource_type, since(0)),
          field("resource_name", &R::resource_name, since(0)),
          field("configuration_keys", &R::configuration_keys, since(0), {.nullable = since(0)})};
    }
    bool operator==(const Resource&) const = default;
  };

  std::vector<Resource> resources;
  bool include_synonyms = false;
  bool include_documentation = false;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = DescribeConfigsRequest;
    return std::tuple{field("resources", &R::resources, since(0)),
                      field("include_synonyms", &R::include_synonyms, since(1)),
                      field("include_documentation", &R::include_documentation, since(3))};
  }
  bool operator==(const DescribeConfigsRequest&) const = default;
};

struct DescribeConfigsResponse {
  struct Synonym {
    std::string name;
    std::optional<std::string> value = "";
    int8_t source = 0;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Synonym;
      return std::tuple{field("name", &R::name, since(1)),
                        field("value", &R::value, since(1), {.nullable = since(0)}),
                        field("source", &R::source, since(1))};
    }
    bool operator==(const Synonym&) const = default;
  };

  struct Config {
    std::string name;
    std::optional<std::string> value = "";
    bool read_only = false;
    // Where the value comes from: 1 dynamic topic, 2 dynamic broker, 3 dynamic default broker,
    // 4 static broker, 5 default, 6 dynamic broker logger, 7 client metrics, 8 group; -1 unknown.
    int8_t config_source = -1;
    bool is_sensitive = false;
    std::vector<Synonym> synonyms;
    // 1 boolean, 2 string, 3 int, 4 short, 5 long, 6 double, 7 list, 8 class, 9 password;
    // 0 unknown.
    int8_t config_type = 0;
    std::optional<std::string> documentation = "";
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Config;
      return std::tuple{
          field("name", &R::name, since(0)),
          field("value", &R::value, since(0), {.nullable = since(0)}),
          field("read_only", &R::read_only, since(0)),
          field("config_source", &R::config_source, since(1)),
          field("is_sensitive", &R::is_sensitive, since(0)),
          field("synonyms", &R::synonyms, since(1)),
          field("config_type", &R::config_type, since(3)),
          field("documentation", &R::documentation, since(3), {.nullable = since(0)})};
    }
    bool operator==(const Config&) const = default;
  };

  struct ResourceResult {
    int16_t error_code = 0;
    std::optional<std::string> error_message = "";
    int8_t resource_type = 0;
    std::string resource_name;
    std::vector<Config> configs;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = ResourceResult;
      return std::tuple{field("error_code", &R::error_code, since(0)),
                        field("error_message", &R::error_message, since(0), {.nullable = since(0)}),
                        field("resource_type", &R::resource_type, since(0)),
                        field("resource_name", &R::resource_name, since(0)),
                        field("configs", &R::configs, since(0))};
    }
    bool operator==(const ResourceResult&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<ResourceResult> results;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = DescribeConfigsResponse;
    return std::tuple{field("throttle_time_ms", &R::throttle_time_ms, since(0)),
                      field("results", &R::results, since(0))};
  }
  bool operator==(const DescribeConfigsResponse&) const = default;
};

struct DescribeConfigsApi {
  static constexpr ApiKey kKey = ApiKey::kDescribeConfigs;
  static constexpr std::string_view kName = "DescribeConfigs";
  static constexpr int16_t kMinVersion = 1;
  static constexpr int16_t kMaxVersion = 4;
  static constexpr int16_t kFirstFlexibleVersion = 4;
  using Request = DescribeConfigsRequest;
  using Response = DescribeConfigsResponse;
};

}  // namespace kafka::protocol
