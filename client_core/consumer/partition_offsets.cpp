#include "client_core/consumer/partition_offsets.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <set>

#include "client_core/cluster/topic_name.hpp"
#include "client_core/group/group_membership.hpp"

namespace kafka::consumer {

namespace {

using Strand = boost::asio::strand<boost::asio::any_io_executor>;

// One description in flight: the metadata listing, then the log offsets and the group's
// committed offsets asked in parallel, then the answer.
class OffsetsDescription : public std::enable_shared_from_this<OffsetsDescription> {
 public:
  OffsetsDescription(boost::asio::any_io_executor executor, std::shared_ptr<Cluster> cluster,
                     OffsetsQuery query,
                     std::function<void(Result<std::vector<TopicOffsets>>)> done)
      : strand_(boost::asio::make_strand(executor)),
        cluster_(std::move(cluster)),
        query_(std::move(query)),
        done_(std::move(done)) {}

  void start() {
    cluster_->refreshMetadata(
        {}, boost::asio::bind_executor(strand_,
                                       [self = shared_from_this()](Result<MetadataPtr> metadata) {
                                         self->onMetadata(std::move(metadata));
                                       }));
  }

 private:
  void onMetadata(Result<MetadataPtr> metadata) {
    if (!metadata.ok()) return done_(metadata.error());
    std::set<std::string_view> described;
    for (const std::string& name : query_.topics) {
      if (!described.insert(name).second) continue;
      TopicOffsets& topic = answer_.emplace_back();
      topic.topic = name;
      const auto found = metadata.value()->topics.find(name);
      if (found == metadata.value()->topics.end()) {
        topic.error = {ErrorCode::kUnknownTopicOrPartition,
                       "topic " + name + ": the cluster has no such topic"};
        continue;
      }
      if (found->second.error != ErrorCode::kNone) {
        topic.error = {found->second.error,
                       "topic " + name + ": " + std::string(errorDescription(found->second.error))};
        continue;
      }
      for (const PartitionInfo& info : found->second.partitions) {
        topic.partitions.emplace_back().partition = info.partition;
        partitions_.push_back({name, info.partition});
      }
    }
    if (partitions_.empty()) return done_(std::move(answer_));
    lookUpLogOffsets();
    if (!query_.group.empty()) fetchCommitted();
  }

  void lookUpLogOffsets() {
    std::vector<OffsetQuery> queries;
    for (const TopicPartition& p : partitions_) {
      queries.push_back({p.topic, p.partition, kEarliestTimestamp});
      queries.push_back({p.topic, p.partition, kLatestTimestamp});
    }
    ++outstanding_;
    lookUpOffsets(strand_, cluster_, std::move(queries), query_.isolation,
                  [self = shared_from_this()](std::vector<OffsetAnswer> answers) {
                    // The lookup's strand runs on ours; dispatch makes that explicit.
                    boost::asio::dispatch(self->strand_,
                                          [self, answers = std::move(answers)]() mutable {
                                            self->log_offsets_ = std::move(answers);
                                            self->partDone();
                                          });
                  });
  }

  // A group membership that never joins only finds the coordinator and asks it.
  void fetchCommitted() {
    group::GroupConfig config;
    config.group_id = query_.group;
    config.request_deadline = query_.group_deadline;
    if (auto valid = group::validate(config); !valid.ok()) {
      committed_ = valid.error();
      return;
    }
    membership_ = group::GroupMembership::create(strand_, cluster_, std::move(config), {});
    ++outstanding_;
    membership_->fetchCommittedOffsets(
        partitions_,
        [self = shared_from_this()](Result<std::vector<group::CommittedOffset>> committed) {
          self->committed_ = std::move(committed);
          self->partDone();
        });
  }

  void partDone() {
    if (--outstanding_ > 0) return;
    // Not destroyed inside its own completion.
    boost::asio::post(strand_, [membership = std::move(membership_)] {});
    size_t i = 0;
    for (TopicOffsets& topic : answer_) {
      for (PartitionOffsets& partition : topic.partitions) fill(partition, i++);
    }
    done_(std::move(answer_));
  }

  // Partition `i` of partitions_, from the answers.
  void fill(PartitionOffsets& out, size_t i) const {
    const OffsetAnswer& earliest = log_offsets_[2 * i];
    const OffsetAnswer& latest = log_offsets_[2 * i + 1];
    auto note = [&out](const Error& error) {
      if (out.error.code == ErrorCode::kNone) out.error = error;
    };
    if (earliest.error.code == ErrorCode::kNone) {
      out.earliest = earliest.offset;
    } else {
      note(earliest.error);
    }
    if (latest.error.code == ErrorCode::kNone) {
      out.latest = latest.offset;
    } else {
      note(latest.error);
    }
    if (query_.group.empty()) return;
    if (!committed_.ok()) {
      const TopicPartition& p = partitions_[i];
      note({committed_.error().code, describePartition(p.topic, p.partition) +
                                         ": committed offset of group " + query_.group + ": " +
                                         committed_.error().toString()});
      return;
    }
    const group::CommittedOffset& committed = committed_.value()[i];
    if (committed.error.code != ErrorCode::kNone) return note(committed.error);
    if (committed.offset < 0) return;
    out.committed = committed.offset;
    out.committed_metadata = committed.metadata;
    if (out.latest >= 0) out.lag = out.latest - committed.offset;
  }

  Strand strand_;
  std::shared_ptr<Cluster> cluster_;
  OffsetsQuery query_;
  std::function<void(Result<std::vector<TopicOffsets>>)> done_;
  std::vector<TopicOffsets> answer_;
  std::vector<TopicPartition> partitions_;  // every described partition, in answer_'s order
  int outstanding_ = 0;                     // lookups not yet answered
  std::vector<OffsetAnswer> log_offsets_;   // earliest and latest of each of partitions_
  std::shared_ptr<group::GroupMembership> membership_;
  Result<std::vector<group::CommittedOffset>> committed_{std::vector<group::CommittedOffset>{}};
};

}  // namespace

void describeOffsets(boost::asio::any_io_executor executor, const std::shared_ptr<Cluster>& cluster,
                     OffsetsQuery query,
                     std::function<void(Result<std::vector<TopicOffsets>>)> done) {
  std::optional<std::string> problem;
  if (query.topics.empty()) problem = "no topics to describe";
  for (const std::string& topic : query.topics) {
    if (!problem) problem = topicNameProblem(topic);
  }
  if (problem) {
    boost::asio::post(executor, [done = std::move(done), problem = std::move(*problem)] {
      done(Error{ErrorCode::kInvalidArgument, problem});
    });
    return;
  }
  std::make_shared<OffsetsDescription>(std::move(executor), cluster, std::move(query),
                                       std::move(done))
      ->start();
}

}  // namespace kafka::consumer
