// Topic administration for the Admin API: creating and deleting topics (CreateTopics and
// DeleteTopics, sent to the controller) and reading their configuration (DescribeConfigs, which
// any broker answers).
//
// - The controller is the one the cluster's metadata names. A topic the broker answers
//   NOT_CONTROLLER for (the controller moved) is sent again, to the controller a fresh metadata
//   names, until the operation's deadline; so is a request that failed as a whole while the
//   error table calls the failure passing. Every other per-topic answer is final.
// - An operation fails as a whole for invalid arguments (kInvalidArgument, naming the fault),
//   when the broker does not support the API (kUnsupportedApi, "the broker does not support
//   CreateTopics ..."), and when no broker answered for any topic before the deadline. Otherwise
//   each topic has its own outcome, in the order asked (a topic named twice is refused).
//
// Free functions; each operation runs on a strand of its own on `executor`, keeps itself alive
// until it is done, and calls `done` once, on that strand.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "client_core/cluster/cluster.hpp"
#include "client_core/protocol/result.hpp"

namespace kafka::admin {

// How long an operation keeps asking, retries included, unless told otherwise.
inline constexpr std::chrono::milliseconds kDefaultAdminTimeout{30'000};

struct NewTopic {
  std::string name;
  // nullopt: the broker's default (num.partitions, default.replication.factor). Brokers older
  // than Kafka 2.4 (CreateTopics v3 and below) have no defaults to offer and refuse the topic.
  std::optional<int32_t> partitions;
  std::optional<int16_t> replication_factor;                 // -1 also means the broker's default
  std::vector<std::pair<std::string, std::string>> configs;  // e.g. {"cleanup.policy", "compact"}
};

struct CreateTopicsQuery {
  std::vector<NewTopic> topics;  // at least one
  // Only check that the topics could be created, as the controller would.
  bool validate_only = false;
  std::chrono::milliseconds timeout = kDefaultAdminTimeout;
};

struct CreatedTopic {
  std::string name;
  // kNone when the topic was created (or, with validate_only, could be), else why not:
  // TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR, INVALID_CONFIG,
  // POLICY_VIOLATION, TOPIC_AUTHORIZATION_FAILED...
  Error error;
  // What the controller settled on (CreateTopics v5+, Kafka 2.4); nullopt from older brokers.
  std::optional<int32_t> partitions;
  std::optional<int16_t> replication_factor;
  protocol::Uuid topic_id;  // v7+ (Kafka 2.8); all zero otherwise
};

void createTopics(boost::asio::any_io_executor executor, const std::shared_ptr<Cluster>& cluster,
                  CreateTopicsQuery query,
                  std::function<void(Result<std::vector<CreatedTopic>>)> done);

struct DeleteTopicsQuery {
  std::vector<std::string> topics;  // at least one
  std::chrono::milliseconds timeout = kDefaultAdminTimeout;
};

struct DeletedTopic {
  std::string name;
  // kNone when the topic was deleted; UNKNOWN_TOPIC_OR_PARTITION when there was no such topic.
  Error error;
};

void deleteTopics(boost::asio::any_io_executor executor, const std::shared_ptr<Cluster>& cluster,
                  DeleteTopicsQuery query,
                  std::function<void(Result<std::vector<DeletedTopic>>)> done);

// Where a configuration value comes from. The values are Kafka's (DescribeConfigs v1+).
enum class ConfigSource : int8_t {
  kUnknown = 0,
  kDynamicTopic = 1,
  kDynamicBroker = 2,
  kDynamicDefaultBroker = 3,
  kStaticBroker = 4,
  kDefault = 5,
  kDynamicBrokerLogger = 6,
  kClientMetrics = 7,
  kGroup = 8,
};

struct ConfigEntry {
  std::string name;
  // nullopt when the broker sent none, and always for a sensitive entry (a password, say):
  // brokers hide those values, and we drop any that a broker sends all the same.
  std::optional<std::string> value;
  bool read_only = false;
  ConfigSource source = ConfigSource::kUnknown;
  bool is_sensitive = false;
  // The value is Kafka's default: set on neither the topic nor the broker.
  bool isDefault() const { return source == ConfigSource::kDefault; }
};

struct TopicConfigsQuery {
  std::vector<std::string> topics;  // at least one
  std::vector<std::string> keys;    // only these entries; empty for all of them
  std::chrono::milliseconds timeout = kDefaultAdminTimeout;
};

struct TopicConfigs {
  std::string topic;
  Error error;                       // e.g. UNKNOWN_TOPIC_OR_PARTITION; `entries` is then empty
  std::vector<ConfigEntry> entries;  // as the broker listed them
};

// Topics' configuration, from any broker (another one on each attempt).
void describeTopicConfigs(boost::asio::any_io_executor executor,
                          const std::shared_ptr<Cluster>& cluster, TopicConfigsQuery query,
                          std::function<void(Result<std::vector<TopicConfigs>>)> done);

}  // namespace kafka::admin
