#include "client_core/protocol/messages/produce.hpp"
#include "tests/unit/round_trip.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

// Topics are named by name up to v12 and by id from v13: the samples below use ids so that the
// newest version keeps everything; the name is checked at the versions that have it.
ProduceRequest sampleRequest() {
  ProduceRequest r;
  r.transactional_id = "txn-1";
  r.acks = -1;
  r.timeout_ms = 30000;
  ProduceRequest::TopicData topic;
  topic.topic_id = testing::sequentialUuid(1);
  topic.partition_data = {{3, Records::copyOf(Bytes{1, 2, 3, 4, 5}), {}}, {4, std::nullopt, {}}};
  r.topic_data = {topic};
  return r;
}

ProduceResponse sampleResponse() {
  ProduceResponse r;
  ProduceResponse::PartitionResponse p;
  p.index = 3;
  p.error_code = 6;
  p.base_offset = 1000;
  p.log_append_time_ms = 1234;
  p.log_start_offset = 10;
  p.record_errors = {{2, "bad key", {}}, {5, std::nullopt, {}}};
  p.error_message = "batch dropped";
  p.current_leader = {7, 12, {}};
  ProduceResponse::TopicResponse topic;
  topic.topic_id = testing::sequentialUuid(1);
  topic.partition_responses = {p};
  r.responses = {topic};
  r.throttle_time_ms = 50;
  r.node_endpoints = {{7, "broker-7", 9092, "rack-b", {}}};
  return r;
}

TEST(ProduceMessageTest, RoundTripsAtEveryVersion) {
  testing::expectRoundTripAllVersions<ProduceApi>(sampleRequest(), sampleResponse());
}

TEST(ProduceMessageTest, TopicNamesRoundTripUpToV12) {
  ProduceRequest request = sampleRequest();
  request.topic_data[0].name = "orders";
  request.topic_data[0].topic_id = {};
  ProduceResponse response = sampleResponse();
  response.responses[0].name = "orders";
  response.responses[0].topic_id = {};
  testing::expectRoundTripAllVersions<testing::VersionRange<ProduceApi, 3, 12>>(request, response);
}

TEST(ProduceMessageTest, TruncatedResponsesFail) {
  for (int16_t v : {3, 5, 8, 9, 10, 13}) {
    testing::expectTruncationsFail<ProduceApi>(sampleResponse(), v);
  }
}

ProduceRequest smallRequest() {
  ProduceRequest r;
  r.acks = -1;
  r.timeout_ms = 1000;
  r.topic_data = {{"t", {}, {{0, Records::copyOf(Bytes{0xaa, 0xbb}), {}}}, {}}};
  return r;
}

TEST(ProduceMessageTest, RequestWireFormatV3) {
  testing::expectWireBytes<ProduceApi>(smallRequest(), 3,
                                       {
                                           0xff, 0xff,              // transactional_id: null
                                           0xff, 0xff,              // acks -1
                                           0,    0,    0x03, 0xe8,  // timeout_ms 1000
                                           0,    0,    0,    1,     // topic_data: count 1
                                           0,    1,    't',         //   name
                                           0,    0,    0,    1,     //   partition_data: count 1
                                           0,    0,    0,    0,     //     index
                                           0,    0,    0,    2,     //     records: int32 length 2
                                           0xaa, 0xbb,              //
                                       });
}

TEST(ProduceMessageTest, RequestWireFormatV9) {
  ProduceRequest r = smallRequest();
  r.transactional_id = "x";
  testing::expectWireBytes<ProduceApi>(r, 9,
                                       {
                                           2,    'x',   // transactional_id: compact length 1+1
                                           0xff, 0xff,  // acks
                                           0,    0,    0x03, 0xe8,  // timeout_ms
                                           2,                       // topic_data: compact count 1+1
                                           2,    't',               //   name
                                           2,  //   partition_data: compact count 1+1
                                           0,    0,    0,    0,  //     index
                                           3,    0xaa, 0xbb,     //     records: compact length 2+1
                                           0,                    //     tags
                                           0,                    //   tags
                                           0,                    // tags
                                       });
}

TEST(ProduceMessageTest, NullRecordsV3AndV9) {
  ProduceRequest r;
  r.topic_data = {{"t", {}, {{0, std::nullopt, {}}}, {}}};
  testing::expectWireBytes<ProduceApi>(r, 3,
                                       {
                                           0xff, 0xff,              // transactional_id: null
                                           0,    0,                 // acks 0
                                           0,    0,    0,    0,     // timeout_ms 0
                                           0,    0,    0,    1,     // topic_data: count 1
                                           0,    1,    't',         //   name
                                           0,    0,    0,    1,     //   partition_data: count 1
                                           0,    0,    0,    0,     //     index
                                           0xff, 0xff, 0xff, 0xff,  //     records: null
                                       });
  testing::expectWireBytes<ProduceApi>(r, 9,
                                       {
                                           0,             // transactional_id: null
                                           0, 0,          // acks
                                           0, 0,   0, 0,  // timeout_ms
                                           2,             // topic_data: compact 1+1
                                           2, 't',        //   name
                                           2,             //   partition_data: compact 1+1
                                           0, 0,   0, 0,  //     index
                                           0,             //     records: null (compact 0)
                                           0,             //     tags
                                           0,             //   tags
                                           0,             // tags
                                       });
}

TEST(ProduceMessageTest, RequestWireFormatV13UsesTopicIds) {
  ProduceRequest r;
  r.acks = 1;
  r.topic_data = {{"", testing::sequentialUuid(1), {}, {}}};
  Bytes wire = {0, 0, 1, 0, 0, 0, 0, 2};                // null txn id; acks 1; timeout 0; 1 topic
  for (uint8_t i = 1; i <= 16; ++i) wire.push_back(i);  // topic_id, no name
  wire.insert(wire.end(), {1, 0, 0});                   // no partitions; topic tags; tags
  testing::expectWireBytes<ProduceApi>(r, 13, wire);
}

ProduceResponse smallResponse() {
  ProduceResponse r;
  ProduceResponse::PartitionResponse p;
  p.base_offset = 5;
  r.responses = {{"t", {}, {p}, {}}};
  return r;
}

TEST(ProduceMessageTest, ResponseWireFormatV3) {
  testing::expectWireBytes<ProduceApi>(
      smallResponse(), 3,
      {
          0,    0,    0,    1,                             // responses: count 1
          0,    1,    't',                                 //   name
          0,    0,    0,    1,                             //   partitions: count 1
          0,    0,    0,    0,                             //     index
          0,    0,                                         //     error_code
          0,    0,    0,    0,    0,    0,    0,    5,     //     base_offset 5
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  //     log_append_time_ms -1
          0,    0,    0,    0,                             // throttle_time_ms
      });
}

TEST(ProduceMessageTest, ResponseWireFormatV10WithTaggedLeader) {
  ProduceResponse r = smallResponse();
  r.responses[0].partition_responses[0].current_leader = {2, 7, {}};
  r.node_endpoints = {{2, "h", 9092, std::nullopt, {}}};
  testing::expectWireBytes<ProduceApi>(
      r, 10,
      {
          2,                                                  // responses: compact 1+1
          2,    't',                                          //   name
          2,                                                  //   partitions: compact 1+1
          0,    0,    0,    0,                                //     index
          0,    0,                                            //     error_code
          0,    0,    0,    0,    0,    0,    0,    5,        //     base_offset
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,     //     log_append_time_ms
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,     //     log_start_offset
          1,                                                  //     record_errors []
          0,                                                  //     error_message null
          1,                                                  //     1 tagged field:
          0,    9,                                            //     tag 0, 9 bytes:
          0,    0,    0,    2,    0,    0,    0,    7,    0,  //     leader 2, epoch 7, tags
          0,                                                  //   tags
          0,    0,    0,    0,                                // throttle_time_ms
          1,                                                  // 1 tagged field:
          0,    13,                                           // tag 0, 13 bytes:
          2,    0,    0,    0,    2,    2,    'h',  0,    0,
          0x23, 0x84, 0,    0,  // [{2, "h", 9092, null}]
      });
}

}  // namespace
}  // namespace kafka::protocol
