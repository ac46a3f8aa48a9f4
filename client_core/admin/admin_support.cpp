#include "client_core/admin/admin_support.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <set>

#include "client_core/cluster/topic_name.hpp"
#include "client_core/protocol/messages/find_coordinator.hpp"

namespace kafka::admin::detail {

namespace asio = boost::asio;

std::chrono::milliseconds Deadline::remaining() const {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(at_ - Clock::now());
  return std::max(left, std::chrono::milliseconds(1));
}

net::Backoff retryBackoff() {
  return net::Backoff(std::chrono::milliseconds(100), std::chrono::milliseconds(1'000));
}

asio::awaitable<bool> pause(net::Backoff& backoff, const Deadline& deadline) {
  const auto delay = backoff.next();
  if (deadline.passed() || delay >= deadline.remaining()) co_return false;
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return true;
}

bool retriable(const Error& error) {
  switch (error.action()) {
    case ErrorAction::kRetry:
    case ErrorAction::kRefreshMetadata:
    case ErrorAction::kFindCoordinator:
      return true;
    default:
      return false;
  }
}

Error requestError(const Error& error, std::string_view api) {
  // The connection reports "no common version of API": the broker does not serve it at all, or
  // only versions too old (or too new) for us.
  if (error.code == ErrorCode::kUnsupportedApi &&
      error.message.find("of " + std::string(api) + " ") != std::string::npos) {
    return Error{ErrorCode::kUnsupportedApi,
                 "the broker does not support " + std::string(api) + " (" + error.message + ")"};
  }
  return error;
}

std::optional<std::string> topicListProblem(const std::vector<std::string>& topics,
                                            std::string_view field) {
  if (topics.empty()) return std::string(field) + ": no topics given";
  std::set<std::string_view> seen;
  for (size_t i = 0; i < topics.size(); ++i) {
    const std::string where = std::string(field) + "[" + std::to_string(i) + "]: ";
    if (auto problem = topicNameProblem(topics[i])) return where + *problem;
    if (!seen.insert(topics[i]).second) return where + "topic " + topics[i] + " is named twice";
  }
  return std::nullopt;
}

asio::awaitable<Result<MetadataPtr>> freshMetadata(Cluster& cluster) {
  co_return co_await cluster.refreshMetadata({}, asio::use_awaitable);
}

std::vector<NodeId> brokersUpFirst(Cluster& cluster, const MetadataSnapshot& metadata) {
  std::vector<NodeId> nodes;
  for (const auto& [id, broker] : metadata.brokers) nodes.push_back(id);
  std::stable_partition(nodes.begin(), nodes.end(), [&cluster](NodeId node) {
    auto connection = cluster.connection(node, ConnectionPurpose::kControl, kConnectionKey);
    return connection && connection->state() == net::BrokerConnection::State::kUp;
  });
  return nodes;
}

NodeId controllerOf(Cluster& cluster, const MetadataSnapshot& metadata) {
  if (metadata.broker(metadata.controller_id) != nullptr) return metadata.controller_id;
  auto nodes = brokersUpFirst(cluster, metadata);
  return nodes.empty() ? kNoNode : nodes.front();
}

asio::awaitable<Result<NodeId>> findCoordinator(Cluster& cluster, const std::string& group,
                                                const Deadline& deadline) {
  net::Backoff backoff = retryBackoff();
  Error last{ErrorCode::kCoordinatorNotAvailable, "no broker was asked"};
  for (size_t attempt = 0;; ++attempt) {
    auto metadata = co_await freshMetadata(cluster);
    if (!metadata.ok()) {
      // The cluster asked every broker it knows for this: no point in asking again.
      last = metadata.error();
      break;
    }
    if ((*metadata)->brokers.empty()) {
      last = Error{ErrorCode::kNoBrokerAvailable, "the metadata lists no brokers"};
    } else {
      // Another broker on each attempt, so that one that is down does not hold the lookup up.
      auto nodes = brokersUpFirst(cluster, **metadata);
      const NodeId asked = nodes[attempt % nodes.size()];
      protocol::FindCoordinatorRequest request;
      request.key = group;
      request.key_type = 0;  // a group
      request.coordinator_keys = {group};
      auto response = co_await ask<protocol::FindCoordinatorApi>(cluster, asked, request);
      if (!response.ok()) {
        last = response.error();
        if (last.code == ErrorCode::kUnsupportedApi) co_return last;
      } else {
        // v4+ answer per key, older versions in the top-level fields.
        ErrorCode code = fromWire(response->error_code);
        NodeId node = response->node_id;
        if (!response->coordinators.empty()) {
          code = fromWire(response->coordinators.front().error_code);
          node = response->coordinators.front().node_id;
        }
        if (code == ErrorCode::kNone && (*metadata)->broker(node) != nullptr) co_return node;
        last = code == ErrorCode::kNone ? Error{ErrorCode::kCoordinatorNotAvailable,
                                                "the coordinator, broker " + std::to_string(node) +
                                                    ", is not in the metadata"}
                                        : Error{code, std::string(errorDescription(code))};
      }
    }
    if (!retriable(last) || !co_await pause(backoff, deadline)) break;
  }
  co_return Error{last.code,
                  "cannot find the coordinator of group " + group + ": " + last.toString()};
}

}  // namespace kafka::admin::detail
