#include "client_core/admin/topic_admin.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "client_core/admin/admin_support.hpp"
#include "client_core/protocol/messages/create_topics.hpp"
#include "client_core/protocol/messages/delete_topics.hpp"
#include "client_core/protocol/messages/describe_configs.hpp"

namespace kafka::admin {

namespace {

namespace asio = boost::asio;
using detail::Deadline;

// A topic's answer from a broker: its code, with the broker's message or else the code's
// description.
Error topicError(const std::string& topic, int16_t wire_code,
                 const std::optional<std::string>& message) {
  const ErrorCode code = fromWire(wire_code);
  if (code == ErrorCode::kNone) return {};
  return {code,
          "topic " + topic + ": " +
              (message && !message->empty() ? *message : std::string(errorDescription(code)))};
}

// A controller's per-topic answer is final (UNKNOWN_TOPIC_OR_PARTITION answers a delete,
// REQUEST_TIMED_OUT says the controller goes on with the work without us), except when it says
// that the broker asked is not the controller, or was asked too often: the topic is then sent
// again, after a fresh look at the metadata.
bool askAgain(ErrorCode code) {
  return code == ErrorCode::kNotController || code == ErrorCode::kThrottlingQuotaExceeded;
}

// Sends `topics` to the controller until each has a final answer, as the header describes.
// `build(names, wait)` makes the request for the topics still unanswered, `wait` being what is
// left of the deadline (for the request's own timeout_ms); `read(response)` gives each topic's
// answer by name. The result holds one answer per topic, in order.
template <protocol::ApiDefinition A, class Build, class Read>
asio::awaitable<Result<std::vector<Error>>> onController(Cluster& cluster,
                                                         const std::vector<std::string>& topics,
                                                         const Deadline& deadline, Build build,
                                                         Read read) {
  std::vector<Error> outcome(topics.size());
  std::vector<size_t> pending;
  for (size_t i = 0; i < topics.size(); ++i) pending.push_back(i);
  bool answered = false;
  int attempts = 0;
  Error last;
  net::Backoff backoff = detail::retryBackoff();
  do {
    ++attempts;
    // The cluster asked every broker it knows for this: no point in asking again.
    auto metadata = co_await detail::freshMetadata(cluster);
    if (!metadata.ok()) {
      last = metadata.error();
      break;
    }
    const NodeId controller = detail::controllerOf(cluster, **metadata);
    if (controller == kNoNode) {
      last = {ErrorCode::kNoBrokerAvailable, "the metadata lists no brokers"};
      continue;
    }
    std::vector<std::string> names;
    for (size_t i : pending) names.push_back(topics[i]);
    const std::chrono::milliseconds wait = deadline.remaining();
    auto response = co_await detail::ask<A>(cluster, controller, build(names, wait), wait);
    if (!response.ok()) {
      last = response.error();
      if (last.code == ErrorCode::kUnsupportedApi) co_return last;
      continue;
    }
    answered = true;
    const std::map<std::string, Error> answers = read(*response);
    std::vector<size_t> again;
    for (size_t i : pending) {
      auto answer = answers.find(topics[i]);
      if (answer == answers.end()) {
        outcome[i] = {ErrorCode::kMalformedMessage, "topic " + topics[i] + ": the " +
                                                        std::string(A::kName) +
                                                        " response has no answer for it"};
      } else if (askAgain(answer->second.code)) {
        again.push_back(i);
        last = answer->second;
      } else {
        outcome[i] = answer->second;
      }
    }
    pending = std::move(again);
    if (pending.empty()) co_return outcome;
  } while (detail::retriable(last) && co_await detail::pause(backoff, deadline));

  const std::string gave_up = " (given up after " + std::to_string(attempts) + " attempts)";
  if (!answered) co_return Error{last.code, std::string(A::kName) + ": " + last.message + gave_up};
  for (size_t i : pending) outcome[i] = {last.code, last.message + gave_up};
  co_return outcome;
}

std::optional<std::string> newTopicsProblem(const CreateTopicsQuery& query) {
  std::vector<std::string> names;
  for (const NewTopic& topic : query.topics) names.push_back(topic.name);
  if (auto problem = detail::topicListProblem(names, "topics")) return problem;
  for (size_t i = 0; i < query.topics.size(); ++i) {
    const NewTopic& topic = query.topics[i];
    const std::string where = "topics[" + std::to_string(i) + "].";
    if (topic.partitions && *topic.partitions <= 0) {
      return where + "partitions: must be at least 1, got " + std::to_string(*topic.partitions);
    }
    if (topic.replication_factor &&
        (*topic.replication_factor == 0 || *topic.replication_factor < -1)) {
      return where +
             "replication_factor: must be at least 1 (or -1 for the broker's default), got " +
             std::to_string(*topic.replication_factor);
    }
    std::set<std::string_view> keys;
    for (size_t k = 0; k < topic.configs.size(); ++k) {
      const std::string& key = topic.configs[k].first;
      const std::string at = where + "configs[" + std::to_string(k) + "]: ";
      if (key.empty()) return at + "empty configuration name";
      if (!keys.insert(key).second) return at + key + " is set twice";
    }
  }
  return std::nullopt;
}

asio::awaitable<Result<std::vector<CreatedTopic>>> create(std::shared_ptr<Cluster> cluster,
                                                          CreateTopicsQuery query) {
  const Deadline deadline(query.timeout);
  std::vector<std::string> names;
  std::map<std::string, const NewTopic*> by_name;
  for (const NewTopic& topic : query.topics) {
    names.push_back(topic.name);
    by_name[topic.name] = &topic;
  }
  std::map<std::string, CreatedTopic> settled;  // what the controller said it created
  auto build = [&](const std::vector<std::string>& pending, std::chrono::milliseconds wait) {
    protocol::CreateTopicsRequest request;
    request.timeout_ms =
        static_cast<int32_t>(std::min<int64_t>(wait.count(), std::numeric_limits<int32_t>::max()));
    request.validate_only = query.validate_only;
    for (const std::string& name : pending) {
      const NewTopic& topic = *by_name.at(name);
      auto& out = request.topics.emplace_back();
      out.name = name;
      out.num_partitions = topic.partitions.value_or(-1);
      out.replication_factor = topic.replication_factor.value_or(-1);
      for (const auto& [key, value] : topic.configs) out.configs.push_back({key, value, {}});
    }
    return request;
  };
  auto read = [&](const protocol::CreateTopicsResponse& response) {
    std::map<std::string, Error> answers;
    for (const auto& topic : response.topics) {
      answers[topic.name] = topicError(topic.name, topic.error_code, topic.error_message);
      CreatedTopic& details = settled[topic.name];
      if (topic.num_partitions >= 0) details.partitions = topic.num_partitions;
      if (topic.replication_factor >= 0) details.replication_factor = topic.replication_factor;
      details.topic_id = topic.topic_id;
    }
    return answers;
  };
  auto outcome =
      co_await onController<protocol::CreateTopicsApi>(*cluster, names, deadline, build, read);
  if (!outcome.ok()) co_return outcome.error();
  std::vector<CreatedTopic> created;
  for (size_t i = 0; i < names.size(); ++i) {
    CreatedTopic topic = settled[names[i]];
    topic.name = names[i];
    topic.error = std::move((*outcome)[i]);
    created.push_back(std::move(topic));
  }
  co_return created;
}

asio::awaitable<Result<std::vector<DeletedTopic>>> remove(std::shared_ptr<Cluster> cluster,
                                                          DeleteTopicsQuery query) {
  const Deadline deadline(query.timeout);
  auto build = [](const std::vector<std::string>& pending, std::chrono::milliseconds wait) {
    protocol::DeleteTopicsRequest request;
    request.timeout_ms =
        static_cast<int32_t>(std::min<int64_t>(wait.count(), std::numeric_limits<int32_t>::max()));
    // Up to v5 topics are plain names, from v6 entries that may also carry an id.
    request.topic_names = pending;
    for (const std::string& name : pending) request.topics.push_back({name, {}, {}});
    return request;
  };
  auto read = [](const protocol::DeleteTopicsResponse& response) {
    std::map<std::string, Error> answers;
    for (const auto& topic : response.responses) {
      if (!topic.name) continue;  // a topic asked for by id; we ask by name
      answers[*topic.name] = topicError(*topic.name, topic.error_code, topic.error_message);
    }
    return answers;
  };
  auto outcome = co_await onController<protocol::DeleteTopicsApi>(*cluster, query.topics, deadline,
                                                                  build, read);
  if (!outcome.ok()) co_return outcome.error();
  std::vector<DeletedTopic> deleted;
  for (size_t i = 0; i < query.topics.size(); ++i) {
    deleted.push_back({query.topics[i], std::move((*outcome)[i])});
  }
  co_return deleted;
}

ConfigEntry entryFrom(const protocol::DescribeConfigsResponse::Config& config) {
  ConfigEntry entry;
  entry.name = config.name;
  entry.is_sensitive = config.is_sensitive;
  if (!entry.is_sensitive) entry.value = config.value;
  entry.read_only = config.read_only;
  if (config.config_source >= static_cast<int8_t>(ConfigSource::kDynamicTopic) &&
      config.config_source <= static_cast<int8_t>(ConfigSource::kGroup)) {
    entry.source = static_cast<ConfigSource>(config.config_source);
  }
  return entry;
}

asio::awaitable<Result<std::vector<TopicConfigs>>> describeConfigs(std::shared_ptr<Cluster> cluster,
                                                                   TopicConfigsQuery query) {
  const Deadline deadline(query.timeout);
  protocol::DescribeConfigsRequest request;
  for (const std::string& topic : query.topics) {
    auto& resource = request.resources.emplace_back();
    resource.resource_type = protocol::config_resource::kTopic;
    resource.resource_name = topic;
    if (query.keys.empty()) {
      resource.configuration_keys.reset();  // every entry
    } else {
      resource.configuration_keys = query.keys;
    }
  }
  net::Backoff backoff = detail::retryBackoff();
  Error last;
  int attempts = 0;
  do {
    auto metadata = co_await detail::freshMetadata(*cluster);
    if (!metadata.ok()) {
      last = metadata.error();
      break;
    }
    auto nodes = detail::brokersUpFirst(*cluster, **metadata);
    if (nodes.empty()) {
      last = {ErrorCode::kNoBrokerAvailable, "the metadata lists no brokers"};
      continue;
    }
    // Another broker on each attempt: a topic's configuration is the same on every broker.
    const NodeId node = nodes[static_cast<size_t>(attempts++) % nodes.size()];
    auto response = co_await detail::ask<protocol::DescribeConfigsApi>(*cluster, node, request);
    if (!response.ok()) {
      last = response.error();
      if (last.code == ErrorCode::kUnsupportedApi) co_return last;
      continue;
    }
    std::vector<TopicConfigs> described;
    for (const std::string& topic : query.topics) {
      TopicConfigs& out = described.emplace_back();
      out.topic = topic;
      auto found =
          std::find_if(response->results.begin(), response->results.end(), [&](const auto& r) {
            return r.resource_name == topic && r.resource_type == protocol::config_resource::kTopic;
          });
      if (found == response->results.end()) {
        out.error = {ErrorCode::kMalformedMessage,
                     "topic " + topic + ": the DescribeConfigs response has no answer for it"};
        continue;
      }
      out.error = topicError(topic, found->error_code, found->error_message);
      for (const auto& config : found->configs) out.entries.push_back(entryFrom(config));
    }
    co_return described;
  } while (detail::retriable(last) && co_await detail::pause(backoff, deadline));
  co_return Error{last.code, "DescribeConfigs: " + last.message};
}

}  // namespace

void createTopics(asio::any_io_executor executor, const std::shared_ptr<Cluster>& cluster,
                  CreateTopicsQuery query,
                  std::function<void(Result<std::vector<CreatedTopic>>)> done) {
  if (auto problem = newTopicsProblem(query)) {
    return detail::refuse(executor, std::move(done), std::move(*problem));
  }
  detail::launch<std::vector<CreatedTopic>>(
      executor,
      [cluster, query = std::move(query)](const detail::Strand&) { return create(cluster, query); },
      std::move(done));
}

void deleteTopics(asio::any_io_executor executor, const std::shared_ptr<Cluster>& cluster,
                  DeleteTopicsQuery query,
                  std::function<void(Result<std::vector<DeletedTopic>>)> done) {
  if (auto problem = detail::topicListProblem(query.topics, "topics")) {
    return detail::refuse(executor, std::move(done), std::move(*problem));
  }
  detail::launch<std::vector<DeletedTopic>>(
      executor,
      [cluster, query = std::move(query)](const detail::Strand&) { return remove(cluster, query); },
      std::move(done));
}

void describeTopicConfigs(asio::any_io_executor executor, const std::shared_ptr<Cluster>& cluster,
                          TopicConfigsQuery query,
                          std::function<void(Result<std::vector<TopicConfigs>>)> done) {
  std::optional<std::string> problem = detail::topicListProblem(query.topics, "topics");
  for (size_t i = 0; !problem && i < query.keys.size(); ++i) {
    if (query.keys[i].empty())
      problem = "keys[" + std::to_string(i) + "]: empty configuration name";
  }
  if (problem) return detail::refuse(executor, std::move(done), std::move(*problem));
  detail::launch<std::vector<TopicConfigs>>(
      executor,
      [cluster, query = std::move(query)](const detail::Strand&) {
        return describeConfigs(cluster, query);
      },
      std::move(done));
}

}  // namespace kafka::admin
