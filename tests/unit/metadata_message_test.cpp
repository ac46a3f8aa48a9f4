#include "client_core/protocol/messages/metadata.hpp"
#include "tests/unit/round_trip.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

Bytes encodeBody(const MetadataRequest& request, int16_t version) {
  Bytes out;
  Writer w(out);
  encodeMessage(w, request, SchemaContext{version, isFlexible<MetadataApi>(version)});
  return out;
}

MetadataRequest sampleRequest() {
  MetadataRequest r;
  r.topics = std::vector<MetadataRequest::Topic>{{testing::sequentialUuid(0xa0), "orders", {}}, {{}, "audit", {}}};
  r.allow_auto_topic_creation = false;
  r.include_topic_authorized_operations = true;
  return r;
}

MetadataResponse sampleResponse() {
  MetadataResponse r;
  r.throttle_time_ms = 25;
  r.brokers = {{1, "broker-1", 9092, "rack-a", {}}, {2, "broker-2", 9093, std::nullopt, {}}};
  r.cluster_id = "cluster-x";
  r.controller_id = 2;
  MetadataResponse::Topic topic;
  topic.error_code = 5;
  topic.name = "orders";
  topic.topic_id = testing::sequentialUuid(0xa0);
  topic.is_internal = true;
  topic.partitions = {{9, 3, 1, 17, {1, 2, 3}, {1, 2}, {3}, {}}, {0, 4, 2, 18, {2}, {2}, {}, {}}};
  topic.topic_authorized_operations = 0x0ff8;
  r.topics = {topic};
  r.error_code = 56;
  return r;
}

TEST(MetadataMessageTest, RoundTripsAtEveryVersion) {
  testing::expectRoundTripAllVersions<MetadataApi>(sampleRequest(), sampleResponse());
}

TEST(MetadataMessageTest, FieldsOfV8ToV10RoundTrip) {
  MetadataRequest request = sampleRequest();
  request.include_cluster_authorized_operations = true;
  MetadataResponse response = sampleResponse();
  response.cluster_authorized_operations = 0x0f00;
  response.error_code = 0;  // v13+
  testing::expectRoundTripAllVersions<testing::VersionRange<MetadataApi, 8, 10>>(request, response);
}

TEST(MetadataMessageTest, TruncatedResponsesFail) {
  for (int16_t v : {0, 1, 5, 8, 9, 12, 13}) {
    testing::expectTruncationsFail<MetadataApi>(sampleResponse(), v);
  }
}

TEST(MetadataMessageTest, RequestWireFormatV0) {
  MetadataRequest request;
  request.topics = std::vector<MetadataRequest::Topic>{{{}, "ab", {}}};
  // topics: int32 count 1; name: int16 length 2, "ab"
  testing::expectWireBytes<MetadataApi>(request, 0, {0, 0, 0, 1, 0, 2, 'a', 'b'});
}

TEST(MetadataMessageTest, AllTopicsIsEmptyInV0AndNullFromV1) {
  MetadataRequest all;
  all.topics = std::nullopt;
  EXPECT_EQ(encodeBody(all, 0), (Bytes{0, 0, 0, 0}));
  testing::expectWireBytes<MetadataApi>(all, 1, {0xff, 0xff, 0xff, 0xff});
  // v0 has no null array.
  Bytes null_array = {0xff, 0xff, 0xff, 0xff};
  Reader r(null_array);
  EXPECT_FALSE(decodeMessage<MetadataRequest>(r, {0, false}, "MetadataRequest").ok());
}

TEST(MetadataMessageTest, RequestWireFormatV4AndV9) {
  MetadataRequest none;
  none.allow_auto_topic_creation = false;
  // topics: int32 count 0; allow_auto_topic_creation: false
  testing::expectWireBytes<MetadataApi>(none, 4, {0, 0, 0, 0, 0});

  MetadataRequest request;
  request.topics = std::vector<MetadataRequest::Topic>{{{}, "ab", {}}};
  // topics: compact count 1+1; name: compact length 2+1, "ab"; topic tags: 0;
  // allow_auto_topic_creation: true; include_cluster_authorized_operations: false;
  // include_topic_authorized_operations: false; tags: 0
  testing::expectWireBytes<MetadataApi>(request, 9, {2, 3, 'a', 'b', 0, 1, 0, 0, 0});
}

TEST(MetadataMessageTest, RequestByTopicIdV12) {
  MetadataRequest request;
  request.topics = std::vector<MetadataRequest::Topic>{{testing::sequentialUuid(0xa0), std::nullopt, {}}};
  Bytes wire = {2};  // compact count 1+1
  for (uint8_t i = 0; i < 16; ++i) wire.push_back(static_cast<uint8_t>(0xa0 + i));
  // name: null compact string (0); topic tags; allow_auto_topic_creation: true;
  // include_topic_authorized_operations: false (v8-10's cluster flag is gone); tags
  wire.insert(wire.end(), {0, 0, 1, 0, 0});
  testing::expectWireBytes<MetadataApi>(request, 12, wire);
}

MetadataResponse smallResponse() {
  MetadataResponse r;
  r.brokers = {{1, "h", 9092, std::nullopt, {}}};
  MetadataResponse::Topic topic;
  topic.name = "t";
  topic.partitions = {{0, 0, 1, -1, {1}, {1}, {}, {}}};
  r.topics = {topic};
  return r;
}

TEST(MetadataMessageTest, ResponseWireFormatV0) {
  testing::expectWireBytes<MetadataApi>(smallResponse(), 0,
                                        {
                                            0, 0, 0,    1,                 // brokers: count 1
                                            0, 0, 0,    1,                 //   node_id 1
                                            0, 1, 'h',                     //   host "h"
                                            0, 0, 0x23, 0x84,              //   port 9092
                                            0, 0, 0,    1,                 // topics: count 1
                                            0, 0,                          //   error_code 0
                                            0, 1, 't',                     //   name "t"
                                            0, 0, 0,    1,                 //   partitions: count 1
                                            0, 0,                          //     error_code
                                            0, 0, 0,    0,                 //     partition_index 0
                                            0, 0, 0,    1,                 //     leader_id 1
                                            0, 0, 0,    1,    0, 0, 0, 1,  //     replica_nodes [1]
                                            0, 0, 0,    1,    0, 0, 0, 1,  //     isr_nodes [1]
                                        });
}

TEST(MetadataMessageTest, ResponseWireFormatV9) {
  MetadataResponse r = smallResponse();
  r.cluster_id = "c";
  r.controller_id = 1;
  r.topics[0].partitions[0].leader_epoch = 5;
  testing::expectWireBytes<MetadataApi>(
      r, 9,
      {
          0,    0,   0,    0,        // throttle_time_ms
          2,                         // brokers: compact count 1+1
          0,    0,   0,    1,        //   node_id
          2,    'h',                 //   host
          0,    0,   0x23, 0x84,     //   port
          0,                         //   rack: null
          0,                         //   tags
          2,    'c',                 // cluster_id "c"
          0,    0,   0,    1,        // controller_id
          2,                         // topics: compact count 1+1
          0,    0,                   //   error_code
          2,    't',                 //   name
          0,                         //   is_internal
          2,                         //   partitions: compact count 1+1
          0,    0,                   //     error_code
          0,    0,   0,    0,        //     partition_index
          0,    0,   0,    1,        //     leader_id
          0,    0,   0,    5,        //     leader_epoch
          2,    0,   0,    0,    1,  //     replica_nodes [1]
          2,    0,   0,    0,    1,  //     isr_nodes [1]
          1,                         //     offline_replicas []
          0,                         //     tags
          0x80, 0,   0,    0,        //   topic_authorized_operations: INT32_MIN
          0,                         //   tags
          0x80, 0,   0,    0,        // cluster_authorized_operations (v8-10)
          0,                         // tags
      });
}

TEST(MetadataMessageTest, ResponseWireFormatV13EndsWithTopLevelErrorCode) {
  MetadataResponse r;
  r.error_code = 6;
  // throttle_time_ms; brokers []; cluster_id null; controller_id -1; topics []; error_code 6;
  // tags
  testing::expectWireBytes<MetadataApi>(r, 13,
                                        {0, 0, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 1, 0, 6, 0});
}

}  // namespace
}  // namespace kafka::protocol
