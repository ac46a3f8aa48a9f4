// EncodedRecord: responses made of encoded slices parse as the SubscribeResponse protobuf itself
// would build, and Poll's decoding gives the records back.
#include "server/encoded_record.hpp"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kafka::sidecar {
namespace {

protocol::ByteView view(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string out;
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

class EncodedRecordTest : public ::testing::Test {
 protected:
  EncodedRecordTest() {
    batch_.attributes = record::kLogAppendTimeFlag;
    headers_ = {{"trace", view(header_value_)}, {"empty", std::nullopt}};
    // A record with everything, one with a null key and an empty value, one with neither.
    records_.push_back({7, 1'700'000'000'000, view(key_), view(value_), headers_});
    records_.push_back({8, 1'700'000'000'001, std::nullopt, view(empty_), {}});
    records_.push_back({9, -1, std::nullopt, std::nullopt, {}});
  }

  v1::PartitionRecords expected() const {
    v1::PartitionRecords out;
    out.set_topic("orders");
    out.set_partition(3);
    v1::ConsumedRecord* first = out.add_records();
    first->set_offset(7);
    first->set_key(key_);
    first->set_value(value_);
    first->add_headers()->set_key("trace");
    first->mutable_headers(0)->set_value(header_value_);
    first->add_headers()->set_key("empty");
    first->set_timestamp_ms(1'700'000'000'000);
    first->set_log_append_time(true);
    v1::ConsumedRecord* second = out.add_records();
    second->set_offset(8);
    second->set_value("");
    second->set_timestamp_ms(1'700'000'000'001);
    second->set_log_append_time(true);
    v1::ConsumedRecord* third = out.add_records();
    third->set_offset(9);
    third->set_timestamp_ms(-1);
    third->set_log_append_time(true);
    return out;
  }

  std::vector<EncodedRecord> encodeAll() {
    std::vector<EncodedRecord> out;
    for (const record::Record& record : records_) out.push_back(encodeRecord(batch_, record));
    return out;
  }

  const std::string key_ = "customer-42";
  const std::string value_ = std::string(300, 'v');  // a length of two varint bytes
  const std::string empty_;
  const std::string header_value_ = "abc";
  std::vector<record::Header> headers_;
  record::RecordBatch batch_;
  std::vector<record::Record> records_;
};

TEST_F(EncodedRecordTest, ResponseParsesAsTheProtobufMessage) {
  const std::vector<EncodedRecord> encoded = encodeAll();
  ASSERT_EQ(encoded.size(), 3u);
  EXPECT_EQ(encoded[0].offset, 7);
  EXPECT_EQ(encoded[0].payload_bytes, key_.size() + value_.size());
  EXPECT_EQ(encoded[1].payload_bytes, 0u);

  v1::SubscribeResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(flatten(recordsResponse({"orders", 3}, encoded))));
  ASSERT_TRUE(parsed.has_records());
  std::string difference;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&difference);
  EXPECT_TRUE(differencer.Compare(expected(), parsed.records())) << difference;
  // Presence survives: a null key is not an empty one.
  EXPECT_FALSE(parsed.records().records(1).has_key());
  EXPECT_TRUE(parsed.records().records(1).has_value());
  EXPECT_FALSE(parsed.records().records(2).has_value());
  EXPECT_FALSE(parsed.records().records(0).headers(1).has_value());

  // Byte for byte what protobuf writes for the same message.
  v1::SubscribeResponse built;
  *built.mutable_records() = expected();
  EXPECT_EQ(flatten(recordsResponse({"orders", 3}, encoded)), built.SerializeAsString());
}

TEST_F(EncodedRecordTest, DefaultValuesAreLeftOutAsProtobufDoes) {
  // Offset 0, timestamp 0, create time, a header with an empty key and an empty value.
  record::RecordBatch create_time;
  const std::vector<record::Header> headers = {{"", view(empty_)}};
  const record::Record record{0, 0, view(empty_), std::nullopt, headers};
  const EncodedRecord encoded = encodeRecord(create_time, record);

  v1::SubscribeResponse built;
  built.mutable_records()->set_topic("t");
  v1::ConsumedRecord& expected_record = *built.mutable_records()->add_records();
  expected_record.set_key("");
  expected_record.add_headers()->set_value("");
  EXPECT_EQ(flatten(recordsResponse({"t", 0}, {&encoded, 1})), built.SerializeAsString());
}

TEST_F(EncodedRecordTest, RecordsDecodeOneByOne) {
  // The second and third records follow one with a key, value and headers.
  const std::vector<EncodedRecord> encoded = encodeAll();
  v1::PartitionRecords decoded;
  for (const EncodedRecord& record : encoded) appendDecoded(record, decoded);
  ASSERT_EQ(decoded.records_size(), 3);
  EXPECT_EQ(decoded.records(1).headers_size(), 0);
  EXPECT_FALSE(decoded.records(1).has_key());
  EXPECT_FALSE(decoded.records(2).has_value());
  EXPECT_EQ(decoded.records(0).headers_size(), 2);
}

TEST_F(EncodedRecordTest, PollDecodingGivesTheRecordsBack) {
  const std::vector<EncodedRecord> encoded = encodeAll();
  v1::PartitionRecords decoded;
  decoded.set_topic("orders");
  decoded.set_partition(3);
  for (const EncodedRecord& record : encoded) appendDecoded(record, decoded);
  std::string difference;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&difference);
  EXPECT_TRUE(differencer.Compare(expected(), decoded)) << difference;
}

TEST_F(EncodedRecordTest, ResponsesShareTheRecordBytes) {
  const std::vector<EncodedRecord> encoded = encodeAll();
  // Delivered again, alone: the same bytes (small slices are copied inline, large ones shared).
  grpc::ByteBuffer again = recordsResponse({"orders", 3}, {encoded.begin(), 1});
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(again.Dump(&slices).ok());
  ASSERT_EQ(slices.size(), 2u);  // the head, then the record's own slice
  EXPECT_EQ(slices[1].begin(), encoded[0].bytes.begin());
  v1::SubscribeResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(flatten(again)));
  ASSERT_EQ(parsed.records().records_size(), 1);
  EXPECT_EQ(parsed.records().records(0).offset(), 7);
  EXPECT_EQ(parsed.records().records(0).value(), value_);
}

}  // namespace
}  // namespace kafka::sidecar
