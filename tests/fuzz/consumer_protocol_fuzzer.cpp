// libFuzzer target: the consumer protocol's subscription and assignment, as a group leader reads
// every member's JoinGroup metadata and every member reads its SyncGroup assignment. The first
// input byte picks the decoder (even: subscription, odd: assignment); the rest is the message,
// version prefix included. Decoding must fail cleanly or give a value that re-encodes, at the
// version it was read as, to bytes that decode to the same value (seeds:
// make_consumer_protocol_corpus.py).
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "client_core/group/consumer_protocol.hpp"

namespace {

using kafka::protocol::Bytes;
using kafka::protocol::ByteView;

// The version a decoded message was read as: its own, or our newest for anything newer.
int16_t readAs(ByteView message, int16_t newest) {
  const auto version = static_cast<int16_t>((message[0] << 8) | message[1]);
  return version < newest ? version : newest;
}

template <class T, class Decode, class Encode>
void requireRoundTrip(const T& decoded, int16_t version, Decode decode, Encode encode,
                      const char* what) {
  const Bytes first = encode(decoded, version);
  auto again = decode(first);
  if (!again.ok() || !(*again == decoded) || encode(*again, version) != first) {
    std::fprintf(stderr, "%s: re-encoding at v%d is not stable\n", what, version);
    std::abort();
  }
}

// The helpers must cope with whatever partition lists a peer sends.
void requireRegroupable(const std::vector<kafka::group::TopicPartitions>& grouped) {
  auto flat = kafka::group::flatten(grouped);
  if (kafka::group::flatten(kafka::group::groupByTopic(flat)) != flat) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kafka::group;
  if (size < 1) return 0;
  const ByteView message(data + 1, size - 1);
  if ((data[0] & 1) == 0) {
    auto subscription = decodeSubscription(message);
    if (!subscription) return 0;
    requireRoundTrip(*subscription, readAs(message, kSubscriptionVersion), decodeSubscription,
                     encodeSubscription, "subscription");
    requireRegroupable(subscription->owned_partitions);
  } else {
    auto assignment = decodeAssignment(message);
    if (!assignment) return 0;
    if (message.empty()) {
      if (!(*assignment == MemberAssignment{})) std::abort();
      return 0;
    }
    requireRoundTrip(*assignment, readAs(message, kAssignmentVersion), decodeAssignment,
                     encodeAssignment, "assignment");
    requireRegroupable(assignment->partitions);
  }
  return 0;
}
