#include "tests/interop/acking_subscriber.hpp"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <sstream>

#include "kafka/sidecar/v1/producer.grpc.pb.h"
#include "tests/interop/peer_process.hpp"
#include "tests/interop/peer_record.hpp"

namespace kafka::interop {
namespace {

using namespace std::chrono_literals;

// Acks go in messages of at most this many records, so that one message may ack records of
// several partitions and consecutive messages ack out of offset order.
constexpr size_t kAcksPerMessage = 4;

std::vector<int32_t> partitionsOf(const v1::TopicPartitionsEvent& event, const std::string& topic) {
  std::vector<int32_t> out;
  for (const v1::TopicPartitions& entry : event.partitions()) {
    if (entry.topic() != topic) continue;
    out.insert(out.end(), entry.partitions().begin(), entry.partitions().end());
  }
  return out;
}

}  // namespace

std::set<int32_t> partitionRange(int32_t count) {
  std::set<int32_t> out;
  for (int32_t partition = 0; partition < count; ++partition) out.insert(partition);
  return out;
}

std::string DeliveryLedger::valueAt(int32_t partition, int64_t offset) {
  return "p" + std::to_string(partition) + "-o" + std::to_string(offset);
}

void DeliveryLedger::delivered(const std::string& member, const std::string& topic,
                               int32_t partition, int64_t offset, const std::string& value) {
  std::lock_guard lock(mutex_);
  ++total_deliveries_;
  const std::string where = "partition " + std::to_string(partition) + " offset " +
                            std::to_string(offset) + " (to " + member + ")";
  if (topic != topic_) violations_.push_back(where + ": topic " + topic);
  if (value != valueAt(partition, offset)) violations_.push_back(where + ": value " + value);
  const int times = ++delivered_[{partition, offset}];
  const auto committed = committed_.find(partition);
  if (times > 1 && committed != committed_.end() && offset < committed->second) {
    violations_.push_back(where + ": delivered again, below the committed offset " +
                          std::to_string(committed->second));
  }
}

void DeliveryLedger::ackSent(int32_t partition, int64_t offset) {
  std::lock_guard lock(mutex_);
  acked_.insert({partition, offset});
}

void DeliveryLedger::committed(int32_t partition, int64_t offset) {
  std::lock_guard lock(mutex_);
  int64_t& highest = committed_.try_emplace(partition, offset).first->second;
  highest = std::max(highest, offset);
}

void DeliveryLedger::assigned(const std::string& member, const std::vector<int32_t>& partitions) {
  std::lock_guard lock(mutex_);
  for (int32_t partition : partitions) {
    auto [owner, added] = owner_.try_emplace(partition, member);
    if (!added && owner->second != member) {
      violations_.push_back("partition " + std::to_string(partition) + " given to " + member +
                            " while " + owner->second + " owns it");
      owner->second = member;
    }
  }
}

void DeliveryLedger::released(const std::string& member, const std::vector<int32_t>& partitions) {
  std::lock_guard lock(mutex_);
  for (int32_t partition : partitions) {
    const auto owner = owner_.find(partition);
    if (owner != owner_.end() && owner->second == member) owner_.erase(owner);
  }
}

void DeliveryLedger::forget(const std::string& member) {
  std::lock_guard lock(mutex_);
  std::erase_if(owner_, [&](const auto& entry) { return entry.second == member; });
}

std::map<std::string, std::set<int32_t>> DeliveryLedger::owners() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::set<int32_t>> out;
  for (const auto& [partition, member] : owner_) out[member].insert(partition);
  return out;
}

std::set<RecordPosition> DeliveryLedger::acked() const {
  std::lock_guard lock(mutex_);
  return acked_;
}

bool DeliveryLedger::complete(const std::set<int32_t>& partitions, int64_t records) const {
  std::lock_guard lock(mutex_);
  for (int32_t partition : partitions) {
    for (int64_t offset = 0; offset < records; ++offset) {
      if (!delivered_.contains({partition, offset}) || !acked_.contains({partition, offset})) {
        return false;
      }
    }
  }
  return true;
}

std::string DeliveryLedger::missing(const std::set<int32_t>& partitions, int64_t records) const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  for (int32_t partition : partitions) {
    int undelivered = 0;
    int unacked = 0;
    std::optional<int64_t> first;
    for (int64_t offset = 0; offset < records; ++offset) {
      const bool got = delivered_.contains({partition, offset});
      const bool acked = acked_.contains({partition, offset});
      undelivered += got ? 0 : 1;
      unacked += acked ? 0 : 1;
      if ((!got || !acked) && !first) first = offset;
    }
    if (first) {
      out << "partition " << partition << ": " << undelivered << " undelivered, " << unacked
          << " unacked, the first at " << *first << "; ";
    }
  }
  return out.str();
}

bool DeliveryLedger::committedAt(const std::set<int32_t>& partitions, int64_t offset) const {
  std::lock_guard lock(mutex_);
  return std::ranges::all_of(partitions, [&](int32_t partition) {
    const auto committed = committed_.find(partition);
    return committed != committed_.end() && committed->second == offset;
  });
}

int DeliveryLedger::deliveries(int32_t partition, int64_t offset) const {
  std::lock_guard lock(mutex_);
  const auto found = delivered_.find({partition, offset});
  return found == delivered_.end() ? 0 : found->second;
}

std::map<RecordPosition, int> DeliveryLedger::duplicates() const {
  std::lock_guard lock(mutex_);
  std::map<RecordPosition, int> out;
  for (const auto& [position, times] : delivered_) {
    if (times > 1) out.emplace(position, times);
  }
  return out;
}

size_t DeliveryLedger::totalDeliveries() const {
  std::lock_guard lock(mutex_);
  return total_deliveries_;
}

std::vector<std::string> DeliveryLedger::violations() const {
  std::lock_guard lock(mutex_);
  return violations_;
}

AckingSubscriber::AckingSubscriber(std::string member, const std::string& address,
                                   const v1::SessionSpec& spec, DeliveryLedger& ledger,
                                   int acks_per_second)
    : member_(std::move(member)),
      ledger_(ledger),
      acks_per_second_(acks_per_second),
      stub_(
          v1::Consumer::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {
  context_.set_deadline(std::chrono::system_clock::now() + 120s);
  stream_ = stub_->Subscribe(&context_);
  v1::SubscribeRequest open;
  *open.mutable_open() = spec;
  write(open);
  reader_ = std::thread([this] { readLoop(); });
  acker_ = std::thread([this] { ackLoop(); });
}

AckingSubscriber::~AckingSubscriber() {
  if (!finished_) cut();
}

bool AckingSubscriber::write(const v1::SubscribeRequest& request) {
  std::lock_guard lock(write_mutex_);
  return stream_->Write(request);
}

void AckingSubscriber::readLoop() {
  const std::string& topic = ledger_.topic();
  v1::SubscribeResponse response;
  while (stream_->Read(&response)) {
    if (response.has_records()) {
      const v1::PartitionRecords& records = response.records();
      for (const v1::ConsumedRecord& record : records.records()) {
        ledger_.delivered(member_, records.topic(), records.partition(), record.offset(),
                          record.value());
      }
      std::lock_guard lock(mutex_);
      for (const v1::ConsumedRecord& record : records.records()) {
        to_ack_.emplace_back(records.partition(), record.offset());
        unacked_.emplace(records.partition(), record.offset());
        ++received_;
      }
    } else if (response.has_event()) {
      const v1::ConsumerEvent& event = response.event();
      std::lock_guard lock(mutex_);
      if (event.has_assigned()) {
        const std::vector<int32_t> partitions = partitionsOf(event.assigned(), topic);
        ledger_.assigned(member_, partitions);
        owned_.insert(partitions.begin(), partitions.end());
      } else if (event.has_revoked() || event.has_lost()) {
        const std::vector<int32_t> partitions =
            partitionsOf(event.has_revoked() ? event.revoked() : event.lost(), topic);
        ledger_.released(member_, partitions);
        for (int32_t partition : partitions) owned_.erase(partition);
        lost_ = lost_ || event.has_lost();
      } else if (event.has_committed()) {
        std::map<int32_t, int64_t> offsets;
        for (const v1::PartitionCommit& commit : event.committed().partitions()) {
          if (commit.has_error() || commit.topic() != topic) continue;
          ledger_.committed(commit.partition(), commit.offset());
          offsets[commit.partition()] = commit.offset();
        }
        last_commit_ = std::move(offsets);
        ++commits_seen_;
      } else if (event.has_error()) {
        errors_.push_back(event.error().error().message() +
                          (event.error().fatal() ? " (fatal)" : ""));
      }
    } else if (response.has_opened()) {
      std::lock_guard lock(mutex_);
      opened_ = response.opened();
    }
    changed_.notify_all();
  }
  std::lock_guard lock(mutex_);
  ended_ = true;
  changed_.notify_all();
}

void AckingSubscriber::ackLoop() {
  std::mt19937 random(static_cast<uint32_t>(std::hash<std::string>{}(member_)));
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || (!hold_ && !to_ack_.empty()); });
    if (stopping_) return;
    std::vector<RecordPosition> batch = std::exchange(to_ack_, {});
    acking_ = true;
    lock.unlock();
    std::shuffle(batch.begin(), batch.end(), random);
    bool written = true;
    for (size_t first = 0; first < batch.size() && written; first += kAcksPerMessage) {
      const size_t last = std::min(batch.size(), first + kAcksPerMessage);
      if (acks_per_second_ > 0) {
        std::this_thread::sleep_for(
            std::chrono::microseconds(1'000'000 * (last - first) / acks_per_second_));
      }
      std::map<int32_t, std::vector<int64_t>> by_partition;
      for (size_t i = first; i < last; ++i) by_partition[batch[i].first].push_back(batch[i].second);
      v1::SubscribeRequest request;
      for (const auto& [partition, offsets] : by_partition) {
        v1::PartitionOffsets* entry = request.mutable_ack()->add_partitions();
        entry->set_topic(ledger_.topic());
        entry->set_partition(partition);
        entry->mutable_offsets()->Add(offsets.begin(), offsets.end());
      }
      written = write(request);
      if (!written) break;
      for (size_t i = first; i < last; ++i) ledger_.ackSent(batch[i].first, batch[i].second);
      std::lock_guard erase_lock(mutex_);
      for (size_t i = first; i < last; ++i) unacked_.erase(batch[i]);
    }
    lock.lock();
    acking_ = false;
    changed_.notify_all();
    if (!written) return;  // the call is over
  }
}

std::optional<v1::SessionOpened> AckingSubscriber::waitOpened(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return opened_ || ended_; });
  return opened_;
}

std::set<int32_t> AckingSubscriber::owned() const {
  std::lock_guard lock(mutex_);
  return owned_;
}

size_t AckingSubscriber::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

void AckingSubscriber::holdAcks() {
  std::unique_lock lock(mutex_);
  hold_ = true;
  changed_.wait(lock, [&] { return !acking_; });
}

void AckingSubscriber::resumeAcks() {
  std::lock_guard lock(mutex_);
  hold_ = false;
  changed_.notify_all();
}

std::set<RecordPosition> AckingSubscriber::unacked() const {
  std::lock_guard lock(mutex_);
  return unacked_;
}

std::optional<std::map<int32_t, int64_t>> AckingSubscriber::commit(
    std::chrono::milliseconds timeout) {
  size_t before = 0;
  {
    std::lock_guard lock(mutex_);
    before = commits_seen_;
  }
  v1::SubscribeRequest request;
  request.set_commit(true);
  if (!write(request)) return std::nullopt;
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [&] { return commits_seen_ > before || ended_; }) ||
      commits_seen_ == before) {
    return std::nullopt;
  }
  return last_commit_;
}

grpc::Status AckingSubscriber::close() {
  v1::SubscribeRequest request;
  request.set_close(true);
  {
    std::unique_lock lock(mutex_);
    // What was delivered is acked before the close (unless acks are held), so that the close
    // commits all of it: the acker would drop what it has not written yet.
    changed_.wait_for(lock, std::chrono::seconds(10),
                      [&] { return hold_ || (to_ack_.empty() && !acking_); });
    stopping_ = true;
    changed_.notify_all();
  }
  if (acker_.joinable()) acker_.join();
  if (write(request)) stream_->WritesDone();
  join();
  const grpc::Status status = stream_->Finish();
  release();
  return status;
}

void AckingSubscriber::cut() {
  context_.TryCancel();
  join();
  (void)stream_->Finish();
  release();
}

void AckingSubscriber::release() {
  finished_ = true;
  stream_.reset();
  stub_.reset();
}

void AckingSubscriber::join() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    changed_.notify_all();
  }
  if (acker_.joinable()) acker_.join();
  if (reader_.joinable()) reader_.join();
}

bool AckingSubscriber::ended() const {
  std::lock_guard lock(mutex_);
  return ended_;
}

std::optional<grpc::Status> AckingSubscriber::waitEnded(std::chrono::milliseconds timeout) {
  {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return ended_; })) return std::nullopt;
  }
  join();
  const grpc::Status status = stream_->Finish();
  release();
  return status;
}

bool AckingSubscriber::lostPartitions() const {
  std::lock_guard lock(mutex_);
  return lost_;
}

std::vector<std::string> AckingSubscriber::errors() const {
  std::lock_guard lock(mutex_);
  return errors_;
}

void produceNumbered(const std::string& address, const std::string& topic, int32_t partitions,
                     int64_t from, int64_t to, int64_t per_request) {
  auto producer =
      v1::Producer::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  for (int64_t first = from; first < to; first += per_request) {
    const int64_t last = std::min(to, first + per_request);
    v1::ProduceRequest request;
    request.set_topic(topic);
    for (int32_t partition = 0; partition < partitions; ++partition) {
      for (int64_t offset = first; offset < last; ++offset) {
        v1::ProduceRecord* record = request.add_records();
        record->set_partition(partition);
        record->set_value(DeliveryLedger::valueAt(partition, offset));
      }
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 15s);
    v1::ProduceResponse response;
    const grpc::Status status = producer->Produce(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.results_size(), request.records_size());
    for (int i = 0; i < response.results_size(); ++i) {
      const v1::ProduceResult& result = response.results(i);
      ASSERT_FALSE(result.has_error()) << result.error().message();
      ASSERT_EQ(result.partition(), request.records(i).partition());
      ASSERT_EQ(DeliveryLedger::valueAt(result.partition(), result.offset()),
                request.records(i).value());
    }
  }
}

std::map<int32_t, int64_t> committedByKafkaPython(const std::string& bootstrap,
                                                  const std::string& group,
                                                  const std::string& topic, int32_t partitions) {
  std::vector<std::string> argv = {"/usr/bin/python3", kPythonPeer, "committed",
                                   bootstrap,          group,       topic};
  for (int32_t partition = 0; partition < partitions; ++partition) {
    argv.push_back(std::to_string(partition));
  }
  const PeerRun run = runPeer(argv, {}, 30s);
  EXPECT_TRUE(run.ok()) << run.describe();
  if (!run.ok()) return {};
  std::map<int32_t, int64_t> out;
  std::istringstream lines(run.out);
  int32_t partition = 0;
  int64_t offset = 0;
  while (lines >> partition >> offset) out[partition] = offset;
  EXPECT_EQ(out.size(), static_cast<size_t>(partitions)) << run.out;
  return out;
}

void expectNoViolations(const DeliveryLedger& ledger) {
  for (const std::string& violation : ledger.violations()) ADD_FAILURE() << violation;
}

void expectAllCommittedAt(const std::string& bootstrap, const std::string& group,
                          const std::string& topic, int32_t partitions, int64_t end) {
  const auto committed = committedByKafkaPython(bootstrap, group, topic, partitions);
  for (int32_t partition = 0; partition < partitions; ++partition) {
    const auto found = committed.find(partition);
    EXPECT_TRUE(found != committed.end() && found->second == end)
        << "partition " << partition << " committed at "
        << (found == committed.end() ? "?" : std::to_string(found->second));
  }
}

v1::SessionSpec manualAckSpec(const std::string& group, const std::string& topic,
                              std::chrono::milliseconds session_timeout) {
  v1::SessionSpec spec;
  spec.set_group(group);
  spec.add_topics(topic);
  spec.add_assignors("range");
  spec.add_assignors("cooperative-sticky");
  spec.set_offset_reset(v1::OFFSET_RESET_EARLIEST);
  spec.set_ack_mode(v1::ACK_MODE_MANUAL);
  spec.set_session_timeout_ms(static_cast<uint32_t>(session_timeout.count()));
  spec.set_auto_commit_interval_ms(300);
  spec.set_max_unacked_records(20);
  return spec;
}

}  // namespace kafka::interop
