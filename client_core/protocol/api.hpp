// Kafka API keys and the traits every API definition provides.
//
// An API is described by a traits struct next to its request and response:
//
//   struct MetadataApi {
//     static constexpr ApiKey kKey = ApiKey::kMetadata;
//     static constexpr std::string_view kName = "Metadata";
//     static constexpr int16_t kMinVersion = 0;      // the oldest version we speak
//     static constexpr int16_t kMaxVersion = 12;     // the newest Kafka 4.x accepts
//     static constexpr int16_t kFirstFlexibleVersion = 9;
//     using Request = MetadataRequest;
//     using Response = MetadataResponse;
//   };
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kafka::protocol {

enum class ApiKey : int16_t {
  kProduce = 0,
  kFetch = 1,
  kListOffsets = 2,
  kMetadata = 3,
  kOffsetCommit = 8,
  kOffsetFetch = 9,
  kFindCoordinator = 10,
  kJoinGroup = 11,
  kHeartbeat = 12,
  kLeaveGroup = 13,
  kSyncGroup = 14,
  kDescribeGroups = 15,
  kListGroups = 16,
  kSaslHandshake = 17,
  kApiVersions = 18,
  kCreateTopics = 19,
  kDeleteTopics = 20,
  kInitProducerId = 22,
  kDescribeConfigs = 32,
  kSaslAuthenticate = 36,
};

// "Metadata", "Produce"...; "unknown API" for keys we do not define.
std::string_view apiName(ApiKey key);
// The key of an API we define, by its name ("ListOffsets"); nullopt for any other name.
std::optional<ApiKey> apiKeyByName(std::string_view name);

template <class A>
concept ApiDefinition = requires {
  { A::kKey } -> std::convertible_to<ApiKey>;
  { A::kName } -> std::convertible_to<std::string_view>;
  { A::kMinVersion } -> std::convertible_to<int16_t>;
  { A::kMaxVersion } -> std::convertible_to<int16_t>;
  { A::kFirstFlexibleVersion } -> std::convertible_to<int16_t>;
  typename A::Request;
  typename A::Response;
};

template <ApiDefinition A>
constexpr bool isFlexible(int16_t version) {
  return version >= A::kFirstFlexibleVersion;
}

}  // namespace kafka::protocol
