#include "client_core/consumer/offset_lookup.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <map>
#include <set>

#include "client_core/protocol/messages/list_offsets.hpp"

namespace kafka::consumer {

namespace {

constexpr int kAttempts = 3;

class OffsetLookup : public std::enable_shared_from_this<OffsetLookup> {
 public:
  OffsetLookup(boost::asio::any_io_executor executor, std::shared_ptr<Cluster> cluster,
               std::vector<OffsetQuery> queries, IsolationLevel isolation,
               std::function<void(std::vector<OffsetAnswer>)> done)
      : strand_(boost::asio::make_strand(executor)),
        cluster_(std::move(cluster)),
        queries_(std::move(queries)),
        answers_(queries_.size()),
        isolation_(isolation),
        done_(std::move(done)) {
    for (size_t i = 0; i < queries_.size(); ++i) unanswered_.push_back(i);
  }

  const boost::asio::strand<boost::asio::any_io_executor>& strand() const { return strand_; }

  // Refreshes the metadata of the unanswered queries' topics, then asks their leaders.
  void attempt() {
    if (unanswered_.empty()) return done_(std::move(answers_));
    ++attempts_;
    std::set<std::string> topics;
    for (size_t i : unanswered_) topics.insert(queries_[i].topic);
    cluster_->refreshMetadata(
        {topics.begin(), topics.end()},
        boost::asio::bind_executor(strand_, [self = shared_from_this()](
                                                Result<MetadataPtr> metadata) {
          self->askLeaders(std::move(metadata));
        }));
  }

 private:
  void askLeaders(Result<MetadataPtr> metadata) {
    // A request may name a partition once: a second query of one partition (earliest and
    // latest, say) goes in a request of its own.
    std::map<std::pair<NodeId, int>, std::vector<size_t>> requests;
    std::map<std::pair<std::string, int32_t>, int> seen;
    std::vector<size_t> pending = std::move(unanswered_);
    unanswered_.clear();
    for (size_t i : pending) {
      const OffsetQuery& query = queries_[i];
      if (!metadata.ok()) {
        fail(i, metadata.error());
        continue;
      }
      const TopicInfo* topic = (*metadata)->topic(query.topic);
      if (topic == nullptr || topic->error != ErrorCode::kNone) {
        fail(i, Error{topic ? topic->error : ErrorCode::kUnknownTopicOrPartition,
                      "topic " + query.topic + ": " +
                          std::string(errorDescription(
                              topic ? topic->error : ErrorCode::kUnknownTopicOrPartition))});
        continue;
      }
      const PartitionInfo* partition = (*metadata)->partition(query.topic, query.partition);
      if (partition == nullptr) {
        fail(i, Error{ErrorCode::kUnknownTopicOrPartition,
                      "partition " + std::to_string(query.partition) + " of topic " +
                          query.topic + " does not exist (the topic has " +
                          std::to_string(topic->partitions.size()) + " partitions)"});
        continue;
      }
      const NodeId leader = partition->leader;
      if (leader == kNoNode) {
        fail(i, Error{ErrorCode::kLeaderNotAvailable, where(query) + " has no leader"});
        continue;
      }
      const int round = seen[{query.topic, query.partition}]++;
      requests[{leader, round}].push_back(i);
    }
    outstanding_ = requests.size();
    if (outstanding_ == 0) return attemptAgainOrFinish();
    for (auto& [key, indices] : requests) ask(key.first, std::move(indices));
  }

  void ask(NodeId leader, std::vector<size_t> indices) {
    auto connection = cluster_->connection(leader, ConnectionPurpose::kControl);
    if (!connection) {
      for (size_t i : indices) {
        fail(i, Error{ErrorCode::kLeaderNotAvailable,
                      where(queries_[i]) + ": broker " + std::to_string(leader) + " is gone"});
      }
      return onAnswered();
    }
    protocol::ListOffsetsRequest request;
    request.replica_id = -1;  // a client, not a follower
    request.isolation_level = static_cast<int8_t>(isolation_);
    std::map<std::string, size_t> topic_index;
    for (size_t i : indices) {
      const OffsetQuery& query = queries_[i];
      auto [it, added] = topic_index.emplace(query.topic, request.topics.size());
      if (added) request.topics.emplace_back().name = query.topic;
      auto& partition = request.topics[it->second].partitions.emplace_back();
      partition.partition_index = query.partition;
      partition.timestamp = query.timestamp;
    }
    connection->request<protocol::ListOffsetsApi>(
        std::move(request),
        boost::asio::bind_executor(
            strand_, [self = shared_from_this(), indices = std::move(indices)](
                         Result<protocol::ListOffsetsResponse> response) {
              self->onResponse(indices, std::move(response));
            }));
  }

  void onResponse(const std::vector<size_t>& indices,
                  Result<protocol::ListOffsetsResponse> response) {
    for (size_t i : indices) {
      const OffsetQuery& query = queries_[i];
      if (!response.ok()) {
        fail(i, Error{response.error().code, where(query) + ": " + response.error().message});
        continue;
      }
      const protocol::ListOffsetsResponse::Partition* found = nullptr;
      for (const auto& topic : response->topics) {
        if (topic.name != query.topic) continue;
        for (const auto& partition : topic.partitions) {
          if (partition.partition_index == query.partition) found = &partition;
        }
      }
      if (found == nullptr) {
        fail(i, Error{ErrorCode::kMalformedMessage,
                      where(query) + ": the ListOffsets response has no answer for it"});
        continue;
      }
      const ErrorCode code = fromWire(found->error_code);
      if (code != ErrorCode::kNone) {
        fail(i, Error{code, where(query) + ": " + std::string(errorDescription(code))});
        continue;
      }
      answers_[i] = OffsetAnswer{Error{}, found->offset, found->timestamp, found->leader_epoch};
    }
    onAnswered();
  }

  void onAnswered() {
    if (--outstanding_ == 0) attemptAgainOrFinish();
  }

  // Records the failure; routing failures are tried again while attempts remain.
  void fail(size_t i, Error error) {
    const ErrorAction action = error.action();
    answers_[i] = OffsetAnswer{std::move(error)};
    if (attempts_ < kAttempts &&
        (action == ErrorAction::kRefreshMetadata || action == ErrorAction::kRetry)) {
      unanswered_.push_back(i);
    }
  }

  void attemptAgainOrFinish() {
    if (unanswered_.empty()) return done_(std::move(answers_));
    attempt();
  }

  static std::string where(const OffsetQuery& query) {
    return describePartition(query.topic, query.partition);
  }

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  const std::shared_ptr<Cluster> cluster_;
  const std::vector<OffsetQuery> queries_;
  std::vector<OffsetAnswer> answers_;
  const IsolationLevel isolation_;
  std::function<void(std::vector<OffsetAnswer>)> done_;
  std::vector<size_t> unanswered_;  // to ask (again) in the next attempt
  size_t outstanding_ = 0;          // requests of the current attempt not yet answered
  int attempts_ = 0;
};

}  // namespace

void lookUpOffsets(boost::asio::any_io_executor executor, const std::shared_ptr<Cluster>& cluster,
                   std::vector<OffsetQuery> queries, IsolationLevel isolation,
                   std::function<void(std::vector<OffsetAnswer>)> done) {
  auto lookup = std::make_shared<OffsetLookup>(std::move(executor), cluster, std::move(queries),
                                               isolation, std::move(done));
  boost::asio::post(lookup->strand(), [lookup] { lookup->attempt(); });
}

}  // namespace kafka::consumer
