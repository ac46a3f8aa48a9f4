#include "client_core/protocol/messages/fetch.hpp"
#include "tests/unit/round_trip.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

// Topic names exist up to v12 and replica_id up to v14; the samples use what v18 has, and the
// older fields are checked at their own versions below.
FetchRequest sampleRequest() {
  FetchRequest r;
  r.cluster_id = "cluster-x";
  r.replica_state = {3, 44, {}};
  r.max_wait_ms = 500;
  r.min_bytes = 1;
  r.max_bytes = 52428800;
  r.isolation_level = 1;
  r.session_id = 77;
  r.session_epoch = 2;
  FetchRequest::Partition p;
  p.partition = 5;
  p.current_leader_epoch = 9;
  p.fetch_offset = 123456;
  p.last_fetched_epoch = 8;
  p.log_start_offset = 100;
  p.partition_max_bytes = 1048576;
  p.replica_directory_id = testing::sequentialUuid(0x40);
  p.high_watermark = 200000;
  r.topics = {{"", testing::sequentialUuid(0x10), {p}, {}}};
  r.forgotten_topics_data = {{"", testing::sequentialUuid(0x20), {1, 2}, {}}};
  r.rack_id = "rack-a";
  return r;
}

FetchResponse sampleResponse() {
  FetchResponse r;
  r.throttle_time_ms = 20;
  r.error_code = 70;
  r.session_id = 77;
  FetchResponse::PartitionData p;
  p.partition_index = 5;
  p.error_code = 74;
  p.high_watermark = 5000;
  p.last_stable_offset = 4900;
  p.log_start_offset = 100;
  p.diverging_epoch = {4, 4000, {}};
  p.current_leader = {2, 9, {}};
  p.snapshot_id = {3000, 3, {}};
  p.aborted_transactions = std::vector<FetchResponse::AbortedTransaction>{{1001, 4500, {}}};
  p.preferred_read_replica = 3;
  p.records = Records::copyOf(Bytes{9, 8, 7, 6});
  FetchResponse::PartitionData empty;
  empty.partition_index = 6;
  empty.aborted_transactions = std::nullopt;
  r.responses = {{"", testing::sequentialUuid(0x10), {p, empty}, {}}};
  r.node_endpoints = {{2, "broker-2", 9092, "rack-b", {}}, {3, "broker-3", 9093, std::nullopt, {}}};
  return r;
}

TEST(FetchMessageTest, RoundTripsAtEveryVersion) {
  testing::expectRoundTripAllVersions<FetchApi>(sampleRequest(), sampleResponse());
}

TEST(FetchMessageTest, TopicNamesRoundTripUpToV12) {
  FetchRequest request = sampleRequest();
  request.replica_id = 4;
  request.replica_state = {};  // v15+
  request.topics[0].topic = "orders";
  request.topics[0].topic_id = {};
  request.topics[0].partitions[0].replica_directory_id = {};  // v17+
  request.topics[0].partitions[0].high_watermark = FetchRequest::Partition{}.high_watermark;
  request.forgotten_topics_data[0].topic = "audit";
  request.forgotten_topics_data[0].topic_id = {};
  FetchResponse response = sampleResponse();
  response.responses[0].topic = "orders";
  response.responses[0].topic_id = {};
  response.node_endpoints.clear();  // v16+
  testing::expectRoundTripAllVersions<testing::VersionRange<FetchApi, 4, 12>>(request, response);
}

TEST(FetchMessageTest, ReplicaIdRoundTripsUpToV14) {
  FetchRequest request = sampleRequest();
  request.replica_id = 4;
  request.replica_state = {};
  request.topics[0].partitions[0].replica_directory_id = {};
  request.topics[0].partitions[0].high_watermark = FetchRequest::Partition{}.high_watermark;
  FetchResponse response = sampleResponse();
  response.node_endpoints.clear();
  testing::expectRoundTripAllVersions<testing::VersionRange<FetchApi, 13, 14>>(request, response);
}

TEST(FetchMessageTest, TruncatedResponsesFail) {
  for (int16_t v : {4, 7, 11, 12, 13, 16, 18}) {
    testing::expectTruncationsFail<FetchApi>(sampleResponse(), v);
  }
}

FetchRequest smallRequest() {
  FetchRequest r;
  r.max_wait_ms = 500;
  r.min_bytes = 1;
  r.isolation_level = 1;
  FetchRequest::Partition p;
  p.fetch_offset = 10;
  p.partition_max_bytes = 1048576;
  r.topics = {{"t", {}, {p}, {}}};
  return r;
}

TEST(FetchMessageTest, RequestWireFormatV4) {
  testing::expectWireBytes<FetchApi>(
      smallRequest(), 4,
      {
          0xff, 0xff, 0xff, 0xff,               // replica_id -1
          0,    0,    0x01, 0xf4,               // max_wait_ms 500
          0,    0,    0,    1,                  // min_bytes 1
          0x7f, 0xff, 0xff, 0xff,               // max_bytes INT32_MAX
          1,                                    // isolation_level READ_COMMITTED
          0,    0,    0,    1,                  // topics: count 1
          0,    1,    't',                      //   topic
          0,    0,    0,    1,                  //   partitions: count 1
          0,    0,    0,    0,                  //     partition
          0,    0,    0,    0,    0, 0, 0, 10,  //     fetch_offset 10
          0,    0x10, 0,    0,                  //     partition_max_bytes 1 MiB
      });
}

TEST(FetchMessageTest, RequestWireFormatV12WithTaggedClusterId) {
  FetchRequest r = smallRequest();
  r.cluster_id = "c";
  testing::expectWireBytes<FetchApi>(
      r, 12,
      {
          0xff, 0xff, 0xff, 0xff,                          // replica_id
          0,    0,    0x01, 0xf4,                          // max_wait_ms
          0,    0,    0,    1,                             // min_bytes
          0x7f, 0xff, 0xff, 0xff,                          // max_bytes
          1,                                               // isolation_level
          0,    0,    0,    0,                             // session_id 0
          0xff, 0xff, 0xff, 0xff,                          // session_epoch -1
          2,                                               // topics: compact 1+1
          2,    't',                                       //   topic
          2,                                               //   partitions: compact 1+1
          0,    0,    0,    0,                             //     partition
          0xff, 0xff, 0xff, 0xff,                          //     current_leader_epoch
          0,    0,    0,    0,    0,    0,    0,    10,    //     fetch_offset
          0xff, 0xff, 0xff, 0xff,                          //     last_fetched_epoch
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  //     log_start_offset
          0,    0x10, 0,    0,                             //     partition_max_bytes
          0,                                               //     tags
          0,                                               //   tags
          1,                                               // forgotten_topics_data []
          1,                                               // rack_id ""
          1,                                               // 1 tagged field:
          0,    2,    2,    'c',                           // tag 0, 2 bytes: "c"
      });
}

Bytes encodeBody(const FetchRequest& request, int16_t version) {
  Bytes out;
  Writer w(out);
  encodeMessage(w, request, SchemaContext{version, isFlexible<FetchApi>(version)});
  return out;
}

TEST(FetchMessageTest, FollowerTagsAreWrittenOnlyWhenSet) {
  FetchRequest r;
  r.topics = {{"", testing::sequentialUuid(0x10), {FetchRequest::Partition{}}, {}}};
  Bytes plain = encodeBody(r, 18);
  r.topics[0].partitions[0].high_watermark = 1;
  Bytes tagged = encodeBody(r, 18);
  // The partition's tag count (0) becomes: count 1, tag 1, 8 bytes, int64 1.
  ASSERT_EQ(tagged.size(), plain.size() + 10);
  // It is followed by the topic's tags, forgotten_topics_data, rack_id and the request's tags.
  EXPECT_EQ(Bytes(tagged.end() - 15, tagged.end() - 4), (Bytes{1, 1, 8, 0, 0, 0, 0, 0, 0, 0, 1}));
  // v17 has no high_watermark tag: nothing is written for it.
  EXPECT_EQ(encodeBody(r, 17).size(), plain.size());
}

FetchResponse smallResponse() {
  FetchResponse r;
  FetchResponse::PartitionData p;
  p.high_watermark = 100;
  p.last_stable_offset = 100;
  p.aborted_transactions = std::nullopt;
  p.records = Records::copyOf(Bytes{0xaa, 0xbb});
  r.responses = {{"t", {}, {p}, {}}};
  return r;
}

TEST(FetchMessageTest, ResponseWireFormatV4) {
  testing::expectWireBytes<FetchApi>(
      smallResponse(), 4,
      {
          0,    0,    0,    0,                         // throttle_time_ms
          0,    0,    0,    1,                         // responses: count 1
          0,    1,    't',                             //   topic
          0,    0,    0,    1,                         //   partitions: count 1
          0,    0,    0,    0,                         //     partition_index
          0,    0,                                     //     error_code
          0,    0,    0,    0,    0,    0,    0, 100,  //     high_watermark
          0,    0,    0,    0,    0,    0,    0, 100,  //     last_stable_offset
          0xff, 0xff, 0xff, 0xff,                      //     aborted_transactions: null
          0,    0,    0,    2,    0xaa, 0xbb,          //     records: int32 length 2
      });
}

TEST(FetchMessageTest, ResponseWireFormatV12WithTaggedEpochs) {
  FetchResponse r = smallResponse();
  auto& p = r.responses[0].partitions[0];
  p.records = std::nullopt;
  p.aborted_transactions = std::vector<FetchResponse::AbortedTransaction>{{7, 90, {}}};
  p.diverging_epoch = {3, 50, {}};
  p.snapshot_id = {9, 1, {}};
  testing::expectWireBytes<FetchApi>(
      r, 12,
      {
          0,    0,    0,    0,                             // throttle_time_ms
          0,    0,                                         // error_code
          0,    0,    0,    0,                             // session_id
          2,                                               // responses: compact 1+1
          2,    't',                                       //   topic
          2,                                               //   partitions: compact 1+1
          0,    0,    0,    0,                             //     partition_index
          0,    0,                                         //     error_code
          0,    0,    0,    0,    0,    0,    0,    100,   //     high_watermark
          0,    0,    0,    0,    0,    0,    0,    100,   //     last_stable_offset
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  //     log_start_offset
          2,                                               //     aborted: compact 1+1
          0,    0,    0,    0,    0,    0,    0,    7,     //       producer_id
          0,    0,    0,    0,    0,    0,    0,    90,    //       first_offset
          0,                                               //       tags
          0xff, 0xff, 0xff, 0xff,                          //     preferred_read_replica
          0,                                               //     records: null
          2,                                               //     2 tagged fields:
          0,    13,                                        //     tag 0, 13 bytes:
          0,    0,    0,    3,    0,    0,    0,    0,
          0,    0,    0,    50,   0,  //     epoch 3, end 50, tags
          2,    13,                   //     tag 2, 13 bytes:
          0,    0,    0,    0,    0,    0,    0,    9,
          0,    0,    0,    1,    0,  //     end 9, epoch 1, tags
          0,                          //   tags
          0,                          // tags
      });
}

TEST(FetchMessageTest, ResponseV16TaggedNodeEndpoints) {
  FetchResponse r;
  r.node_endpoints = {{2, "h", 9092, "r", {}}};
  // throttle; error_code; session_id; responses []; 1 tagged field: tag 0, 14 bytes:
  // compact count 1+1, node 2, host "h", port 9092, rack "r", tags
  testing::expectWireBytes<FetchApi>(r, 16, {0, 0, 0, 0, 0, 0, 0,   0, 0, 0,    1,    1, 0,   14,
                                             2, 0, 0, 0, 2, 2, 'h', 0, 0, 0x23, 0x84, 2, 'r', 0});
}

}  // namespace
}  // namespace kafka::protocol
