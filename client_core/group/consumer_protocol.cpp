// The consumer protocol's two messages are classic (never flexible) structures behind an int16
// version prefix, so the schema DSL describes them as it does any non-flexible message body.
#include "client_core/group/consumer_protocol.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

#include "client_core/protocol/schema.hpp"

namespace kafka::group {
namespace {

using protocol::Bytes;
using protocol::ByteView;
using protocol::field;
using protocol::Reader;
using protocol::SchemaContext;
using protocol::since;
using protocol::UnknownTags;
using protocol::Writer;

// The newest version whose layout we know. Kafka promises that later versions only append
// fields, so a newer message is read as this version and its tail ignored.
constexpr int16_t kNewestKnownVersion = 3;
static_assert(kSubscriptionVersion == kNewestKnownVersion &&
              kAssignmentVersion == kNewestKnownVersion);

struct WireTopic {
  std::string topic;
  std::vector<int32_t> partitions;
  UnknownTags unknown_tags;  // the DSL wants one; these messages never have tagged fields

  static constexpr auto fields() {
    using R = WireTopic;
    return std::tuple{field("topic", &R::topic, since(0)),
                      field("partitions", &R::partitions, since(0))};
  }
  bool operator==(const WireTopic&) const = default;
};

struct WireSubscription {
  std::vector<std::string> topics;
  std::optional<Bytes> user_data;
  std::vector<WireTopic> owned_partitions;
  int32_t generation_id = -1;
  std::optional<std::string> rack_id;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = WireSubscription;
    return std::tuple{field("topics", &R::topics, since(0)),
                      field("user_data", &R::user_data, since(0), {.nullable = since(0)}),
                      field("owned_partitions", &R::owned_partitions, since(1)),
                      field("generation_id", &R::generation_id, since(2)),
                      field("rack_id", &R::rack_id, since(3), {.nullable = since(3)})};
  }
  bool operator==(const WireSubscription&) const = default;
};

struct WireAssignment {
  std::vector<WireTopic> assigned_partitions;
  std::optional<Bytes> user_data;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = WireAssignment;
    return std::tuple{field("assigned_partitions", &R::assigned_partitions, since(0)),
                      field("user_data", &R::user_data, since(0), {.nullable = since(0)})};
  }
  bool operator==(const WireAssignment&) const = default;
};

std::vector<WireTopic> toWire(const std::vector<TopicPartitions>& grouped) {
  std::vector<WireTopic> wire;
  wire.reserve(grouped.size());
  for (const TopicPartitions& t : grouped) wire.push_back({t.topic, t.partitions, {}});
  return wire;
}

std::vector<TopicPartitions> fromWire(std::vector<WireTopic> wire) {
  std::vector<TopicPartitions> grouped;
  grouped.reserve(wire.size());
  for (WireTopic& t : wire) grouped.push_back({std::move(t.topic), std::move(t.partitions)});
  return grouped;
}

// Versions outside 0-3 are written as the nearest one we know, as Kafka's clients do.
template <class T>
Bytes encodeVersioned(const T& message, int16_t version) {
  version = std::clamp<int16_t>(version, 0, kNewestKnownVersion);
  Bytes out;
  Writer w(out);
  w.int16(version);
  protocol::encodeMessage(w, message, SchemaContext{version, false});
  return out;
}

template <class T>
Result<T> decodeVersioned(ByteView bytes, std::string_view name) {
  Reader r(bytes);
  const int16_t version = r.int16();
  if (!r.ok()) {
    return Error{ErrorCode::kMalformedMessage, std::string(name) + ": version: " + r.error()};
  }
  if (version < 0) {
    return Error{ErrorCode::kMalformedMessage,
                 std::string(name) + ": version: " + std::to_string(version) + " is negative"};
  }
  T message{};
  // Bytes after the fields we know are ignored, whatever the version, as Java and librdkafka
  // do: decodeMessage would refuse them, hence the struct decoder.
  protocol::detail::decodeStruct(r, message,
                                 SchemaContext{std::min(version, kNewestKnownVersion), false});
  if (!r.ok()) {
    return Error{ErrorCode::kMalformedMessage,
                 std::string(name) + " v" + std::to_string(version) + ": " + r.error()};
  }
  return message;
}

}  // namespace

protocol::Bytes encodeSubscription(const MemberSubscription& subscription, int16_t version) {
  const WireSubscription wire{
      subscription.topics,        subscription.user_data, toWire(subscription.owned_partitions),
      subscription.generation_id, subscription.rack_id,   {}};
  return encodeVersioned(wire, version);
}

Result<MemberSubscription> decodeSubscription(protocol::ByteView bytes) {
  auto wire = decodeVersioned<WireSubscription>(bytes, "consumer protocol subscription");
  if (!wire) return wire.error();
  return MemberSubscription{std::move(wire->topics), std::move(wire->user_data),
                            fromWire(std::move(wire->owned_partitions)), wire->generation_id,
                            std::move(wire->rack_id)};
}

protocol::Bytes encodeAssignment(const MemberAssignment& assignment, int16_t version) {
  const WireAssignment wire{toWire(assignment.partitions), assignment.user_data, {}};
  return encodeVersioned(wire, version);
}

Result<MemberAssignment> decodeAssignment(protocol::ByteView bytes) {
  if (bytes.empty()) return MemberAssignment{};
  auto wire = decodeVersioned<WireAssignment>(bytes, "consumer protocol assignment");
  if (!wire) return wire.error();
  return MemberAssignment{fromWire(std::move(wire->assigned_partitions)),
                          std::move(wire->user_data)};
}

std::vector<TopicPartition> flatten(const std::vector<TopicPartitions>& grouped) {
  std::vector<TopicPartition> flat;
  for (const TopicPartitions& t : grouped) {
    for (int32_t partition : t.partitions) flat.push_back({t.topic, partition});
  }
  std::sort(flat.begin(), flat.end());
  flat.erase(std::unique(flat.begin(), flat.end()), flat.end());
  return flat;
}

std::vector<TopicPartitions> groupByTopic(std::vector<TopicPartition> partitions) {
  std::sort(partitions.begin(), partitions.end());
  partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());
  std::vector<TopicPartitions> grouped;
  for (TopicPartition& tp : partitions) {
    if (grouped.empty() || grouped.back().topic != tp.topic) {
      grouped.push_back({std::move(tp.topic), {}});
    }
    grouped.back().partitions.push_back(tp.partition);
  }
  return grouped;
}

}  // namespace kafka::group
