#include "client_core/protocol/messages/describe_configs.hpp"
#include "tests/unit/round_trip.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

using testing::wire;

DescribeConfigsRequest sampleRequest() {
  DescribeConfigsRequest r;
  r.resources = {
      {config_resource::kTopic,
       "orders",
       std::vector<std::string>{"retention.ms", "cleanup.policy"},
       {}},
      {config_resource::kBroker, "1", std::nullopt, {}},
  };
  r.include_synonyms = true;
  r.include_documentation = true;
  return r;
}

DescribeConfigsResponse sampleResponse() {
  using Response = DescribeConfigsResponse;
  Response r;
  r.throttle_time_ms = 3;
  Response::Config retention{
      "retention.ms",
      "86400000",
      false,
      1,
      false,
      {{"retention.ms", "86400000", 1, {}}, {"log.retention.ms", std::nullopt, 5, {}}},
      5,
      "How long to keep data",
      {}};
  Response::Config password{
      "ssl.key.password", std::nullopt, true, 4, true, {}, 9, std::nullopt, {}};
  r.results = {
      {0, std::nullopt, config_resource::kTopic, "orders", {retention, password}, {}},
      {29, "not authorized", config_resource::kTopic, "secret", {}, {}},
  };
  return r;
}

TEST(DescribeConfigsMessageTest, RoundTripsAtEveryVersion) {
  testing::expectRoundTripAllVersions<DescribeConfigsApi>(sampleRequest(), sampleResponse());
}

TEST(DescribeConfigsMessageTest, TruncatedResponsesFail) {
  for (int16_t v = DescribeConfigsApi::kMinVersion; v <= DescribeConfigsApi::kMaxVersion; ++v) {
    testing::expectTruncationsFail<DescribeConfigsApi>(sampleResponse(), v);
  }
}

TEST(DescribeConfigsMessageTest, RequestMatchesHandComputedBytes) {
  DescribeConfigsRequest r;
  r.resources = {{config_resource::kTopic, "orders", std::nullopt, {}}};
  r.include_synonyms = true;
  testing::expectWireBytes<DescribeConfigsApi>(r, 4,
                                               wire({{2},  // resources: 1 entry
                                                     {2},  // resource_type TOPIC
                                                     {7},
                                                     "orders",  // resource_name
                                                     {0},       // configuration_keys null
                                                     {0},       // no tags
                                                     {1},       // include_synonyms
                                                     {0},       // include_documentation
                                                     {0}}));    // no tags
}

TEST(DescribeConfigsMessageTest, ResponseMatchesHandComputedBytes) {
  DescribeConfigsResponse r;
  r.results = {{0,
                std::nullopt,
                config_resource::kTopic,
                "t",
                {{"retention.ms", "-1", false, 5, false, {}, 0, "", {}}},
                {}}};
  // v1: classic encoding; no config_type or documentation yet.
  testing::expectWireBytes<DescribeConfigsApi>(r, 1,
                                               wire({{0, 0, 0, 0},  // throttle_time_ms
                                                     {0, 0, 0, 1},  // results: 1 entry
                                                     {0, 0},        // error_code
                                                     {0xff, 0xff},  // error_message null
                                                     {2},           // resource_type
                                                     {0, 1},
                                                     "t",           // resource_name
                                                     {0, 0, 0, 1},  // configs: 1 entry
                                                     {0, 12},
                                                     "retention.ms",  // name
                                                     {0, 2},
                                                     "-1",             // value
                                                     {0},              // read_only
                                                     {5},              // config_source
                                                     {0},              // is_sensitive
                                                     {0, 0, 0, 0}}));  // synonyms: none
}

}  // namespace
}  // namespace kafka::protocol
