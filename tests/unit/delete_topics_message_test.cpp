#include "client_core/protocol/messages/delete_topics.hpp"
#include "tests/unit/round_trip.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

using testing::wire;

DeleteTopicsRequest sampleRequest() {
  DeleteTopicsRequest r;
  r.topics = {{"orders", {}, {}}, {std::nullopt, testing::sequentialUuid(1), {}}};
  r.timeout_ms = 30000;
  return r;
}

DeleteTopicsResponse sampleResponse() {
  DeleteTopicsResponse r;
  r.throttle_time_ms = 7;
  r.responses = {{"orders", testing::sequentialUuid(1), 0, std::nullopt, {}},
                 {std::nullopt, testing::sequentialUuid(1), 100, "no topic with this id", {}},
                 {"locked", {}, 73, "deletion is disabled", {}}};
  return r;
}

TEST(DeleteTopicsMessageTest, RoundTripsAtEveryVersion) {
  testing::expectRoundTripAllVersions<DeleteTopicsApi>(sampleRequest(), sampleResponse());
}

TEST(DeleteTopicsMessageTest, TopicNamesRoundTripUpToVersion5) {
  DeleteTopicsRequest request;
  request.topic_names = {"orders", "audit"};
  request.timeout_ms = 30000;
  DeleteTopicsResponse response;
  response.throttle_time_ms = 7;
  response.responses = {{"orders", {}, 0, std::nullopt, {}}, {"audit", {}, 3, "unknown", {}}};
  testing::expectRoundTripAllVersions<testing::VersionRange<DeleteTopicsApi, 1, 5>>(request,
                                                                                    response);
}

TEST(DeleteTopicsMessageTest, TruncatedResponsesFail) {
  for (int16_t v = DeleteTopicsApi::kMinVersion; v <= DeleteTopicsApi::kMaxVersion; ++v) {
    testing::expectTruncationsFail<DeleteTopicsApi>(sampleResponse(), v);
  }
}

TEST(DeleteTopicsMessageTest, RequestsMatchHandComputedBytes) {
  DeleteTopicsRequest by_name;
  by_name.topic_names = {"a", "bc"};
  by_name.timeout_ms = 5000;
  testing::expectWireBytes<DeleteTopicsApi>(by_name, 3,
                                            wire({{0, 0, 0, 2},  // topic_names: 2
                                                  {0, 1},
                                                  "a",  // int16 length + text
                                                  {0, 2},
                                                  "bc",                   //
                                                  {0, 0, 0x13, 0x88}}));  // timeout_ms 5000

  DeleteTopicsRequest by_id;
  by_id.topics = {{"old", {}, {}}, {std::nullopt, testing::sequentialUuid(1), {}}};
  by_id.timeout_ms = 5000;
  testing::expectWireBytes<DeleteTopicsApi>(
      by_id, 6,
      wire({{3},  // topics: 2 entries
            {4},
            "old",                                                    // name
            {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},         // topic_id: none
            {0},                                                      // no tags
            {0},                                                      // name null
            {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},  // topic_id
            {0},                                                      // no tags
            {0, 0, 0x13, 0x88},                                       // timeout_ms 5000
            {0}}));                                                   // no tags
}

TEST(DeleteTopicsMessageTest, ResponseMatchesHandComputedBytes) {
  DeleteTopicsResponse r;
  r.throttle_time_ms = 1;
  r.responses = {{std::nullopt, testing::sequentialUuid(1), 100, "gone", {}}};
  testing::expectWireBytes<DeleteTopicsApi>(
      r, 6,
      wire({{0, 0, 0, 1},                                             // throttle_time_ms
            {2},                                                      // responses: 1 entry
            {0},                                                      // name null
            {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},  // topic_id
            {0, 100},                                                 // error_code UNKNOWN_TOPIC_ID
            {5},
            "gone",  // error_message
            {0},     // no tags
            {0}}));  // no tags
}

}  // namespace
}  // namespace kafka::protocol
