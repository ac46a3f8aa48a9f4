#include "client_core/protocol/messages/list_offsets.hpp"
#include "tests/unit/round_trip.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::protocol {
namespace {

ListOffsetsRequest sampleRequest() {
  ListOffsetsRequest r;
  r.replica_id = -1;
  r.isolation_level = 1;
  r.topics = {{"orders", {{0, 4, -2, {}}, {1, 5, 1700000000000, {}}}, {}},
              {"audit", {{7, 2, -1, {}}}, {}}};
  r.timeout_ms = 15000;
  return r;
}

ListOffsetsResponse sampleResponse() {
  ListOffsetsResponse r;
  r.throttle_time_ms = 10;
  r.topics = {{"orders", {{0, 0, 1700000000001, 42, 4, {}}, {1, 6, 17, 18, 5, {}}}, {}}};
  return r;
}

TEST(ListOffsetsMessageTest, RoundTripsAtEveryVersion) {
  testing::expectRoundTripAllVersions<ListOffsetsApi>(sampleRequest(), sampleResponse());
}

TEST(ListOffsetsMessageTest, TruncatedResponsesFail) {
  for (int16_t v : {1, 2, 4, 6, 11}) {
    testing::expectTruncationsFail<ListOffsetsApi>(sampleResponse(), v);
  }
}

ListOffsetsRequest smallRequest() {
  ListOffsetsRequest r;
  r.replica_id = -1;
  r.topics = {{"t", {{0, -1, -2, {}}}, {}}};
  return r;
}

TEST(ListOffsetsMessageTest, RequestWireFormatV1) {
  testing::expectWireBytes<ListOffsetsApi>(
      smallRequest(), 1,
      {
          0xff, 0xff, 0xff, 0xff,                          // replica_id -1
          0,    0,    0,    1,                             // topics: count 1
          0,    1,    't',                                 //   name
          0,    0,    0,    1,                             //   partitions: count 1
          0,    0,    0,    0,                             //     partition_index
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,  //     timestamp -2 (earliest)
      });
}

TEST(ListOffsetsMessageTest, RequestWireFormatV6AndV10) {
  Bytes v6 = {
      0xff, 0xff, 0xff, 0xff,                          // replica_id
      0,                                               // isolation_level
      2,                                               // topics: compact 1+1
      2,    't',                                       //   name
      2,                                               //   partitions: compact 1+1
      0,    0,    0,    0,                             //     partition_index
      0xff, 0xff, 0xff, 0xff,                          //     current_leader_epoch -1
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,  //     timestamp
      0,                                               //     tags
      0,                                               //   tags
      0,                                               // tags
  };
  testing::expectWireBytes<ListOffsetsApi>(smallRequest(), 6, v6);

  ListOffsetsRequest r = smallRequest();
  r.timeout_ms = 30000;
  Bytes v10 = v6;
  v10.insert(v10.end() - 1, {0, 0, 0x75, 0x30});  // timeout_ms 30000, before the tags
  testing::expectWireBytes<ListOffsetsApi>(r, 10, v10);
}

ListOffsetsResponse smallResponse() {
  ListOffsetsResponse r;
  r.topics = {{"t", {{0, 0, -1, 42, 3, {}}}, {}}};
  return r;
}

TEST(ListOffsetsMessageTest, ResponseWireFormatV1) {
  ListOffsetsResponse r = smallResponse();
  r.topics[0].partitions[0].leader_epoch = -1;  // v4+
  testing::expectWireBytes<ListOffsetsApi>(
      r, 1,
      {
          0,    0,    0,    1,                             // topics: count 1
          0,    1,    't',                                 //   name
          0,    0,    0,    1,                             //   partitions: count 1
          0,    0,    0,    0,                             //     partition_index
          0,    0,                                         //     error_code
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  //     timestamp -1
          0,    0,    0,    0,    0,    0,    0,    42,    //     offset 42
      });
}

TEST(ListOffsetsMessageTest, ResponseWireFormatV6) {
  testing::expectWireBytes<ListOffsetsApi>(
      smallResponse(), 6,
      {
          0,    0,    0,    0,                             // throttle_time_ms
          2,                                               // topics: compact 1+1
          2,    't',                                       //   name
          2,                                               //   partitions: compact 1+1
          0,    0,    0,    0,                             //     partition_index
          0,    0,                                         //     error_code
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  //     timestamp
          0,    0,    0,    0,    0,    0,    0,    42,    //     offset
          0,    0,    0,    3,                             //     leader_epoch 3
          0,                                               //     tags
          0,                                               //   tags
          0,                                               // tags
      });
}

}  // namespace
}  // namespace kafka::protocol
