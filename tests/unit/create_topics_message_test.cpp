#include "client_core/protocol/messages/create_topics.hpp"
#include "tests/unit/round_trip.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

using testing::wire;

CreateTopicsRequest sampleRequest() {
  CreateTopicsRequest r;
  r.topics = {
      {"orders",
       6,
       3,
       {},
       {{"cleanup.policy", "compact", {}}, {"retention.ms", std::nullopt, {}}},
       {}},
      {"manual", -1, -1, {{0, {1, 2}, {}}, {1, {2, 3}, {}}}, {}, {}},
  };
  r.timeout_ms = 15000;
  r.validate_only = true;
  return r;
}

CreateTopicsResponse sampleResponse() {
  CreateTopicsResponse r;
  r.throttle_time_ms = 10;
  r.topics = {
      {"orders",
       testing::sequentialUuid(0x10),
       0,
       std::nullopt,
       0,
       6,
       3,
       std::vector<CreateTopicsResponse::Config>{
           {"cleanup.policy", "compact", false, 1, false, {}},
           {"sasl.jaas.config", std::nullopt, true, 5, true, {}}},
       {}},
      {"taken", {}, 36, "the topic exists", 29, -1, -1, std::nullopt, {}},
  };
  return r;
}

TEST(CreateTopicsMessageTest, RoundTripsAtEveryVersion) {
  testing::expectRoundTripAllVersions<CreateTopicsApi>(sampleRequest(), sampleResponse());
}

TEST(CreateTopicsMessageTest, TruncatedResponsesFail) {
  for (int16_t v = CreateTopicsApi::kMinVersion; v <= CreateTopicsApi::kMaxVersion; ++v) {
    testing::expectTruncationsFail<CreateTopicsApi>(sampleResponse(), v);
  }
}

TEST(CreateTopicsMessageTest, RequestMatchesHandComputedBytes) {
  CreateTopicsRequest r;
  r.topics = {{"t", -1, -1, {{0, {1, 2}, {}}}, {{"cleanup.policy", "compact", {}}}, {}}};
  r.timeout_ms = 30000;
  r.validate_only = true;
  // v5 is flexible: compact arrays and strings are length + 1 as an unsigned varint, and every
  // struct ends with its tagged-field count.
  testing::expectWireBytes<CreateTopicsApi>(
      r, 5,
      wire({{2},  // topics: 1 entry
            {2},
            "t",                          // name
            {0xff, 0xff, 0xff, 0xff},     // num_partitions -1
            {0xff, 0xff},                 // replication_factor -1
            {2},                          // assignments: 1 entry
            {0, 0, 0, 0},                 //   partition_index 0
            {3, 0, 0, 0, 1, 0, 0, 0, 2},  //   broker_ids [1, 2]
            {0},                          //   no tags
            {2},                          // configs: 1 entry
            {15},
            "cleanup.policy",
            {8},
            "compact",           //   name, value
            {0},                 //   no tags
            {0},                 // topic: no tags
            {0, 0, 0x75, 0x30},  // timeout_ms 30000
            {1},                 // validate_only
            {0}}));              // no tags
}

TEST(CreateTopicsMessageTest, ResponseMatchesHandComputedBytes) {
  CreateTopicsResponse r;
  r.topics = {{"t", {}, 0, std::nullopt, 29, 1, 1, std::nullopt, {}}};
  // topic_config_error_code is tagged field 0 in v5+, written because it is not its default.
  testing::expectWireBytes<CreateTopicsApi>(r, 5,
                                            wire({{0, 0, 0, 0},  // throttle_time_ms
                                                  {2},           // topics: 1 entry
                                                  {2},
                                                  "t",               // name
                                                  {0, 0},            // error_code
                                                  {0},               // error_message null
                                                  {0, 0, 0, 1},      // num_partitions
                                                  {0, 1},            // replication_factor
                                                  {0},               // configs null
                                                  {1, 0, 2, 0, 29},  // 1 tag: 0, 2 bytes, 29
                                                  {0}}));            // no tags
  // v4 is classic: int16-length strings, int32 array counts, no tags, no v5 fields.
  r.topics[0].topic_config_error_code = 0;
  r.topics[0].num_partitions = -1;
  r.topics[0].replication_factor = -1;
  r.topics[0].configs = std::vector<CreateTopicsResponse::Config>{};
  testing::expectWireBytes<CreateTopicsApi>(r, 4,
                                            wire({{0, 0, 0, 0},  // throttle_time_ms
                                                  {0, 0, 0, 1},  // topics: 1 entry
                                                  {0, 1},
                                                  "t",              // name
                                                  {0, 0},           // error_code
                                                  {0xff, 0xff}}));  // error_message null
}

}  // namespace
}  // namespace kafka::protocol
