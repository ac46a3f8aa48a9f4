// Consume-side bookkeeping for the group and at-least-once tests (sidecar_group_test.cpp,
// sidecar_at_least_once_test.cpp).
//
// DeliveryLedger is shared by every subscriber of one test. It keeps who was given which
// partition (a partition given to one member while another owns it is a violation), every
// delivery of every record (a value that is not the one written there is a violation), and the
// highest committed offset seen per partition, from commit events or read with kafka-python: a
// record delivered again below it is a violation, since the group must never redeliver what was
// committed. Thread-safe: subscribers' threads write to it, the test thread reads it.
//
// AckingSubscriber is one Consumer.Subscribe call in manual ack mode, as an application would
// use it: a reader thread records what comes into the ledger, and an acker thread acks every
// record it received, in shuffled order, at a given pace. The test can hold the acks back (to
// leave records unacked when it cuts the call or kills the daemon), ask for a commit, close the
// session or cut the call. An ack counts as sent once the stream took it; whether the session
// applied it shows only in what gets committed, so tests prove "acked" by the committed offsets.
// The test thread drives it; its own two threads end when the call does.
//
// produceNumbered() writes the records that the ledger expects, and committedByKafkaPython()
// reads a group's offsets with an independent client.
#pragma once

#include <grpcpp/client_context.h>
#include <grpcpp/support/sync_stream.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "kafka/sidecar/v1/consumer.grpc.pb.h"

namespace kafka::interop {

namespace v1 = kafka::sidecar::v1;

// (partition, offset)
using RecordPosition = std::pair<int32_t, int64_t>;

// Partitions 0..count-1.
std::set<int32_t> partitionRange(int32_t count);

class DeliveryLedger {
 public:
  // Records of `topic` are expected to hold valueAt(partition, offset).
  explicit DeliveryLedger(std::string topic) : topic_(std::move(topic)) {}

  static std::string valueAt(int32_t partition, int64_t offset);
  const std::string& topic() const { return topic_; }

  // From the subscribers, and from tests for members that are not sidecar sessions.
  void delivered(const std::string& member, const std::string& topic, int32_t partition,
                 int64_t offset, const std::string& value);
  void ackSent(int32_t partition, int64_t offset);
  // Raises the partition's committed offset, if `offset` is above what was seen.
  void committed(int32_t partition, int64_t offset);
  void assigned(const std::string& member, const std::vector<int32_t>& partitions);
  void released(const std::string& member, const std::vector<int32_t>& partitions);
  // A member gone without releasing its partitions (its daemon killed): it owns nothing now.
  void forget(const std::string& member);

  // The partitions each member owns now (members owning nothing are left out).
  std::map<std::string, std::set<int32_t>> owners() const;
  // True when every offset below `records` of `partitions` was delivered and had an ack sent.
  bool complete(const std::set<int32_t>& partitions, int64_t records) const;
  // What complete() still lacks, briefly, for failure messages.
  std::string missing(const std::set<int32_t>& partitions, int64_t records) const;
  // Every record whose ack was sent.
  std::set<RecordPosition> acked() const;
  // True when the highest committed offset seen for each of `partitions` is `offset`.
  bool committedAt(const std::set<int32_t>& partitions, int64_t offset) const;
  // How many times the record was delivered.
  int deliveries(int32_t partition, int64_t offset) const;
  // Records delivered more than once, with how many times.
  std::map<RecordPosition, int> duplicates() const;
  size_t totalDeliveries() const;
  std::vector<std::string> violations() const;

 private:
  const std::string topic_;
  mutable std::mutex mutex_;
  std::map<int32_t, std::string> owner_;
  std::map<RecordPosition, int> delivered_;
  std::set<RecordPosition> acked_;
  std::map<int32_t, int64_t> committed_;
  size_t total_deliveries_ = 0;
  std::vector<std::string> violations_;
};

class AckingSubscriber {
 public:
  // Opens the call and sends `open` with `spec` (which should ask for ACK_MODE_MANUAL). `member`
  // names it in the ledger. The acker acks at most `acks_per_second` records a second (0: as
  // fast as they come). The call's deadline is two minutes away.
  AckingSubscriber(std::string member, const std::string& address, const v1::SessionSpec& spec,
                   DeliveryLedger& ledger, int acks_per_second = 0);
  // Cuts the call if it is still open.
  ~AckingSubscriber();
  AckingSubscriber(const AckingSubscriber&) = delete;
  AckingSubscriber& operator=(const AckingSubscriber&) = delete;

  const std::string& member() const { return member_; }

  // Waits for `opened`; nullopt when the call ended first or it did not come in time.
  std::optional<v1::SessionOpened> waitOpened(std::chrono::milliseconds timeout);
  // The partitions this call was told its session owns.
  std::set<int32_t> owned() const;
  size_t received() const;
  // Stops acking; returns once no ack is being sent. Records keep coming (up to the session's
  // max_unacked_records) and wait, unacked.
  void holdAcks();
  void resumeAcks();
  // Records received and not acked yet.
  std::set<RecordPosition> unacked() const;
  // Sends a commit request and waits for the next `committed` event (meant for sessions that do
  // not auto-commit): its offsets, nullopt if none came in time. The session applies the acks
  // sent before the request first.
  std::optional<std::map<int32_t, int64_t>> commit(std::chrono::milliseconds timeout);
  // Closes the session (committing what was acked, leaving the group) and ends the call.
  grpc::Status close();
  // Cancels the call, as an application whose stream breaks: the session stays open for its
  // idle TTL and gives the unacked records to the next call.
  void cut();
  // True once the server ended the call (e.g. its daemon died).
  bool ended() const;
  // Waits up to `timeout` for the server to end the call, then finishes it: its status, or
  // nullopt if it had not ended in time (the call is left as it is).
  std::optional<grpc::Status> waitEnded(std::chrono::milliseconds timeout);
  // Error events, as text.
  std::vector<std::string> errors() const;
  // True once the call was told that its session lost partitions (its membership expired).
  bool lostPartitions() const;

 private:
  void readLoop();
  void ackLoop();
  bool write(const v1::SubscribeRequest& request);
  // Stops the acker and waits for both threads.
  void join();
  // Drops the finished call and its channel, so that the client's connection closes.
  void release();

  const std::string member_;
  DeliveryLedger& ledger_;
  const int acks_per_second_;
  std::unique_ptr<v1::Consumer::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::SubscribeRequest, v1::SubscribeResponse>> stream_;
  std::mutex write_mutex_;  // the stream allows one write at a time

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<v1::SessionOpened> opened_;
  std::set<int32_t> owned_;
  std::vector<RecordPosition> to_ack_;  // received, not yet taken by the acker
  std::set<RecordPosition> unacked_;    // received, ack not sent
  size_t received_ = 0;
  size_t commits_seen_ = 0;
  std::optional<std::map<int32_t, int64_t>> last_commit_;
  std::vector<std::string> errors_;
  bool ended_ = false;
  bool lost_ = false;
  bool hold_ = false;
  bool acking_ = false;
  bool stopping_ = false;
  bool finished_ = false;

  std::thread reader_;
  std::thread acker_;
};

// Writes valueAt(partition, offset) for offsets [from, to) of partitions 0..partitions-1 of
// `topic` through the Producer service at `address`, `per_request` records of each partition a
// request (so that each request makes one batch per partition); expects each record at its
// offset.
void produceNumbered(const std::string& address, const std::string& topic, int32_t partitions,
                     int64_t from, int64_t to, int64_t per_request);

// kafka-python's KafkaConsumer.committed() for partitions 0..partitions-1 of `topic` in `group`
// (-1: none); empty when kafka-python failed (a test failure is reported).
std::map<int32_t, int64_t> committedByKafkaPython(const std::string& bootstrap,
                                                  const std::string& group,
                                                  const std::string& topic, int32_t partitions);

// Fails the test once for each of the ledger's violations.
void expectNoViolations(const DeliveryLedger& ledger);
// Expects kafka-python to read `end` as the committed offset of every partition
// 0..partitions-1 of `topic` in `group`.
void expectAllCommittedAt(const std::string& bootstrap, const std::string& group,
                          const std::string& topic, int32_t partitions, int64_t end);

// A SessionSpec for member sessions of `group` reading `topic` from the start with manual acks,
// the range assignor first, and `session_timeout`.
v1::SessionSpec manualAckSpec(const std::string& group, const std::string& topic,
                              std::chrono::milliseconds session_timeout);

}  // namespace kafka::interop
