// What the admin operations of client_core/admin share, internal to them: their deadline and
// retry pace, requests whose failure names an API the broker does not support, the brokers to
// ask for what any broker answers, the controller, a group's coordinator, and the launch of an
// operation as a coroutine on a strand of its own.
//
// The coroutines run on the strand of the operation that awaits them.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client_core/admin/group_admin.hpp"
#include "client_core/cluster/cluster.hpp"
#include "client_core/net/backoff.hpp"
#include "client_core/protocol/result.hpp"

namespace kafka::admin::detail {

using Clock = std::chrono::steady_clock;
using Strand = boost::asio::strand<boost::asio::any_io_executor>;

// The connection key of admin requests: a control connection of their own per broker, so that a
// CreateTopics the controller holds while partitions get leaders delays no produce or metadata.
inline const std::string kConnectionKey = "admin";

class Deadline {
 public:
  explicit Deadline(std::chrono::milliseconds budget) : at_(Clock::now() + budget) {}
  bool passed() const { return Clock::now() >= at_; }
  // What is left, at least 1 ms.
  std::chrono::milliseconds remaining() const;

 private:
  Clock::time_point at_;
};

// 100 ms, doubling to 1 s, jittered: Kafka's retry.backoff.ms and retry.backoff.max.ms.
net::Backoff retryBackoff();

// Waits out the next delay of `backoff`; false, at once, when the deadline would pass first.
boost::asio::awaitable<bool> pause(net::Backoff& backoff, const Deadline& deadline);

// A request that failed as a whole is worth another attempt when the table says it may pass:
// a retry, a metadata refresh or a coordinator lookup (a new attempt does all of them).
bool retriable(const Error& error);

// The failure of a request of API `api`: an error naming the API when the broker serves no
// version of it that we speak, so that callers can tell "not supported here" from a fault.
Error requestError(const Error& error, std::string_view api);

// One request of API A to broker `node` on its admin connection. `extra` is added to the
// connection's request timeout, for requests the broker may hold (CreateTopics' timeout_ms).
template <protocol::ApiDefinition A>
boost::asio::awaitable<Result<typename A::Response>> ask(
    Cluster& cluster, NodeId node, typename A::Request request,
    std::chrono::milliseconds extra = std::chrono::milliseconds(0)) {
  auto connection = cluster.connection(node, ConnectionPurpose::kControl, kConnectionKey);
  if (!connection) {
    co_return Error{ErrorCode::kBrokerNotAvailable,
                    "broker " + std::to_string(node) + " is not in the metadata"};
  }
  net::RequestOptions options;
  options.timeout = cluster.config().connection.request_timeout + extra;
  auto response = co_await connection->template request<A>(std::move(request), options,
                                                           boost::asio::use_awaitable);
  if (!response.ok()) co_return requestError(response.error(), A::kName);
  co_return response;
}

// A metadata refresh of every topic.
boost::asio::awaitable<Result<MetadataPtr>> freshMetadata(Cluster& cluster);

// The brokers of `metadata`, those whose admin connection is up first: for requests that any
// broker answers, tried in this order.
std::vector<NodeId> brokersUpFirst(Cluster& cluster, const MetadataSnapshot& metadata);

// The controller the metadata names or, when it names none (old Metadata versions, or KRaft
// brokers that hide the controller), the first of brokersUpFirst(), which forwards the request.
// kNoNode when the metadata lists no broker.
NodeId controllerOf(Cluster& cluster, const MetadataSnapshot& metadata);

// The coordinator of `group` (FindCoordinator, asked of each broker in turn), retried while the
// table calls the failure passing and the deadline allows.
boost::asio::awaitable<Result<NodeId>> findCoordinator(Cluster& cluster, const std::string& group,
                                                       const Deadline& deadline);

// `group` as its coordinator describes it: describeGroup() without its own strand. The
// coordinator is looked for again after a coordinator error, while the deadline allows.
boost::asio::awaitable<Result<GroupDescription>> describeGroupNow(Cluster& cluster,
                                                                  const std::string& group,
                                                                  const Deadline& deadline);

// Awaits `start(callback)`, a callback-style operation whose callback takes one T; the
// coroutine resumes on its own executor, never inside the callback.
template <class T, class Start>
boost::asio::awaitable<T> callbackResult(Start start) {
  co_return co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(T)>(
      [start = std::move(start)](auto handler) mutable {
        auto executor = boost::asio::get_associated_executor(handler);
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        start([executor, shared](T value) {
          boost::asio::post(executor, [shared, value = std::move(value)]() mutable {
            std::move (*shared)(std::move(value));
          });
        });
      },
      boost::asio::use_awaitable);
}

// Why a list of topic names, the request field `field`, cannot be used: empty, a name Kafka
// refuses, or a name given twice ("topics[2]: ..."); nullopt when it can.
std::optional<std::string> topicListProblem(const std::vector<std::string>& topics,
                                            std::string_view field);

// Calls `done` with kInvalidArgument and `problem`, posted to `executor`.
template <class T>
void refuse(const boost::asio::any_io_executor& executor, std::function<void(Result<T>)> done,
            std::string problem) {
  boost::asio::post(executor, [done = std::move(done), problem = std::move(problem)] {
    done(Error{ErrorCode::kInvalidArgument, problem});
  });
}

// Runs `flow(strand)` on a new strand of `executor` and calls `done` once, on that strand, with
// what it returns.
template <class T, class Flow>
void launch(const boost::asio::any_io_executor& executor, Flow flow,
            std::function<void(Result<T>)> done) {
  Strand strand = boost::asio::make_strand(executor);
  boost::asio::co_spawn(
      strand,
      [strand, flow = std::move(flow), done = std::move(done)]() mutable
      -> boost::asio::awaitable<void> { done(co_await flow(strand)); },
      boost::asio::detached);
}

}  // namespace kafka::admin::detail
