#include "server/encoded_record.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include <string>
#include <vector>

namespace kafka::sidecar {

namespace {

using google::protobuf::io::CodedOutputStream;
using google::protobuf::internal::WireFormatLite;

constexpr uint32_t kRecordTag = WireFormatLite::MakeTag(v1::PartitionRecords::kRecordsFieldNumber,
                                                        WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
constexpr uint32_t kResponseRecordsTag =
    WireFormatLite::MakeTag(v1::SubscribeResponse::kRecordsFieldNumber,
                            WireFormatLite::WIRETYPE_LENGTH_DELIMITED);

const char* chars(protocol::ByteView bytes) { return reinterpret_cast<const char*>(bytes.data()); }

}  // namespace

EncodedRecord RecordEncoder::encode(const record::RecordBatch& batch, const record::Record& record) {
  EncodedRecord out;
  out.offset = record.offset;
  scratch_.set_offset(record.offset);
  if (record.key) {
    scratch_.set_key(chars(*record.key), record.key->size());
    out.payload_bytes += static_cast<uint32_t>(record.key->size());
  } else {
    scratch_.clear_key();
  }
  if (record.value) {
    scratch_.set_value(chars(*record.value), record.value->size());
    out.payload_bytes += static_cast<uint32_t>(record.value->size());
  } else {
    scratch_.clear_value();
  }
  // Clear() keeps the header objects, and their strings, for the next records.
  scratch_.mutable_headers()->Clear();
  for (const record::Header& header : record.headers) {
    v1::RecordHeader& copy = *scratch_.add_headers();
    copy.set_key(header.key.data(), header.key.size());
    if (header.value) {
      copy.set_value(chars(*header.value), header.value->size());
    } else {
      copy.clear_value();
    }
  }
  scratch_.set_timestamp_ms(record.timestamp);
  scratch_.set_log_append_time(batch.timestampType() == record::TimestampType::kLogAppendTime);

  const size_t body = scratch_.ByteSizeLong();
  const size_t size = CodedOutputStream::VarintSize32(kRecordTag) +
                      CodedOutputStream::VarintSize32(static_cast<uint32_t>(body)) + body;
  grpc_slice slice = grpc_slice_malloc(size);
  uint8_t* at = GRPC_SLICE_START_PTR(slice);
  at = CodedOutputStream::WriteVarint32ToArray(kRecordTag, at);
  at = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(body), at);
  scratch_.SerializeWithCachedSizesToArray(at);
  out.bytes = grpc::Slice(slice, grpc::Slice::STEAL_REF);
  return out;
}

grpc::ByteBuffer recordsResponse(const TopicPartition& partition,
                                 std::span<const EncodedRecord> records) {
  v1::PartitionRecords head;
  head.set_topic(partition.topic);
  head.set_partition(partition.partition);
  size_t inner = head.ByteSizeLong();
  for (const EncodedRecord& record : records) inner += record.bytes.size();

  std::string prefix;
  {
    google::protobuf::io::StringOutputStream stream(&prefix);
    CodedOutputStream out(&stream);
    out.WriteVarint32(kResponseRecordsTag);
    out.WriteVarint32(static_cast<uint32_t>(inner));
    head.SerializeWithCachedSizes(&out);
  }
  std::vector<grpc::Slice> slices;
  slices.reserve(records.size() + 1);
  slices.emplace_back(prefix);
  for (const EncodedRecord& record : records) slices.push_back(record.bytes);
  return grpc::ByteBuffer(slices.data(), slices.size());
}

void appendDecoded(const EncodedRecord& record, v1::PartitionRecords& out) {
  google::protobuf::io::CodedInputStream in(record.bytes.begin(),
                                            static_cast<int>(record.bytes.size()));
  uint32_t length = 0;
  // The encoder wrote the tag and length: reading them cannot fail.
  in.ReadTag();
  in.ReadVarint32(&length);
  google::protobuf::io::CodedInputStream::Limit limit = in.PushLimit(static_cast<int>(length));
  out.add_records()->MergeFromCodedStream(&in);
  in.PopLimit(limit);
}

}  // namespace kafka::sidecar
