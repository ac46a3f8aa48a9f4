#include "client_core/admin/group_admin.hpp"

#include <algorithm>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <set>

#include "client_core/admin/admin_support.hpp"
#include "client_core/group/consumer_protocol.hpp"
#include "client_core/protocol/messages/describe_groups.hpp"
#include "client_core/protocol/messages/list_groups.hpp"

namespace kafka::admin {

namespace asio = boost::asio;
using detail::Deadline;

namespace {

// Attempts at each broker of a listing: a broker that is down must not hold the whole listing
// up until the deadline.
constexpr int kListAttempts = 3;

// What one broker listed, or why it could not.
struct BrokerGroups {
  Error error;
  std::vector<ListedGroup> groups;
};

asio::awaitable<BrokerGroups> listAt(std::shared_ptr<Cluster> cluster, NodeId node,
                                     Deadline deadline) {
  BrokerGroups out;
  net::Backoff backoff = detail::retryBackoff();
  for (int attempt = 1;; ++attempt) {
    auto response = co_await detail::ask<protocol::ListGroupsApi>(*cluster, node, {});
    if (response.ok() && response->error_code == 0) {
      for (const auto& listed : response->groups) {
        out.groups.push_back({listed.group_id, listed.protocol_type, listed.group_state, node});
      }
      out.error = {};
      co_return out;
    }
    if (response.ok()) {
      const ErrorCode code = fromWire(response->error_code);
      out.error = {code, "broker " + std::to_string(node) +
                             ": ListGroups: " + std::string(errorDescription(code))};
    } else {
      out.error = response.error();
    }
    if (attempt == kListAttempts || !detail::retriable(out.error) ||
        !co_await detail::pause(backoff, deadline)) {
      co_return out;
    }
  }
}

asio::awaitable<Result<GroupListing>> list(std::shared_ptr<Cluster> cluster,
                                           std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  auto metadata = co_await detail::freshMetadata(*cluster);
  if (!metadata.ok()) co_return metadata.error();
  if ((*metadata)->brokers.empty()) {
    co_return Error{ErrorCode::kNoBrokerAvailable, "the metadata lists no brokers"};
  }
  auto executor = co_await asio::this_coro::executor;
  using Op = decltype(asio::co_spawn(executor, listAt(cluster, kNoNode, deadline), asio::deferred));
  std::vector<Op> ops;
  std::vector<NodeId> nodes;
  for (const auto& [node, broker] : (*metadata)->brokers) {
    ops.push_back(asio::co_spawn(executor, listAt(cluster, node, deadline), asio::deferred));
    nodes.push_back(node);
  }
  auto [order, exceptions, answers] =
      co_await asio::experimental::make_parallel_group(std::move(ops))
          .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);

  GroupListing listing;
  std::set<std::string> seen;  // a group moving between coordinators may be listed twice
  for (size_t i = 0; i < answers.size(); ++i) {
    BrokerGroups& answer = answers[i];
    if (exceptions[i]) {
      answer.error = {ErrorCode::kUnknownServerError,
                      "broker " + std::to_string(nodes[i]) + ": the listing failed unexpectedly"};
    }
    if (answer.error.code != ErrorCode::kNone) {
      listing.failures.push_back({nodes[i], std::move(answer.error)});
      continue;
    }
    for (ListedGroup& group : answer.groups) {
      if (seen.insert(group.group).second) listing.groups.push_back(std::move(group));
    }
  }
  if (listing.failures.size() == answers.size()) co_return listing.failures.front().error;
  std::sort(listing.groups.begin(), listing.groups.end(),
            [](const ListedGroup& a, const ListedGroup& b) { return a.group < b.group; });
  co_return listing;
}

DescribedMember memberFrom(const protocol::DescribeGroupsResponse::DescribedGroupMember& in,
                           bool consumer) {
  DescribedMember member;
  member.member_id = in.member_id;
  member.group_instance_id = in.group_instance_id;
  member.client_id = in.client_id;
  member.host = in.client_host;
  if (!consumer) return member;
  auto assignment = group::decodeAssignment(in.member_assignment);
  if (!assignment.ok()) {
    member.assignment_error = {ErrorCode::kMalformedMessage,
                               "member " + in.member_id + ": the assignment does not decode: " +
                                   assignment.error().message};
    return member;
  }
  member.assignment = group::flatten(assignment->partitions);
  return member;
}

}  // namespace

namespace detail {

asio::awaitable<Result<GroupDescription>> describeGroupNow(Cluster& cluster,
                                                           const std::string& group,
                                                           const Deadline& deadline) {
  net::Backoff backoff = retryBackoff();
  Error last;
  do {
    auto coordinator = co_await findCoordinator(cluster, group, deadline);
    if (!coordinator.ok()) co_return coordinator.error();
    protocol::DescribeGroupsRequest request;
    request.groups = {group};
    auto response = co_await ask<protocol::DescribeGroupsApi>(cluster, *coordinator, request);
    if (!response.ok()) {
      last = response.error();
      if (last.code == ErrorCode::kUnsupportedApi) co_return last;
      continue;
    }
    auto found = std::find_if(response->groups.begin(), response->groups.end(),
                              [&](const auto& described) { return described.group_id == group; });
    if (found == response->groups.end()) {
      co_return Error{ErrorCode::kMalformedMessage,
                      "group " + group + ": the DescribeGroups response has no answer for it"};
    }
    const ErrorCode code = fromWire(found->error_code);
    GroupDescription description;
    description.group = group;
    description.coordinator = *coordinator;
    if (code == ErrorCode::kGroupIdNotFound) {
      description.state = "Dead";  // as brokers before Kafka 4.0 describe an unknown group
      co_return description;
    }
    if (code == ErrorCode::kNone) {
      description.state = found->group_state;
      description.protocol_type = found->protocol_type;
      description.protocol = found->protocol_data;
      for (const auto& member : found->members) {
        description.members.push_back(memberFrom(member, found->protocol_type == "consumer"));
      }
      co_return description;
    }
    last = {code, "group " + group + ": " +
                      (found->error_message && !found->error_message->empty()
                           ? *found->error_message
                           : std::string(errorDescription(code)))};
  } while (retriable(last) && co_await pause(backoff, deadline));
  co_return last;
}

}  // namespace detail

void listGroups(asio::any_io_executor executor, const std::shared_ptr<Cluster>& cluster,
                std::chrono::milliseconds timeout, std::function<void(Result<GroupListing>)> done) {
  detail::launch<GroupListing>(
      executor, [cluster, timeout](const detail::Strand&) { return list(cluster, timeout); },
      std::move(done));
}

void describeGroup(asio::any_io_executor executor, const std::shared_ptr<Cluster>& cluster,
                   std::string group, std::chrono::milliseconds timeout,
                   std::function<void(Result<GroupDescription>)> done) {
  if (group.empty()) {
    return detail::refuse(executor, std::move(done), std::string("group: the group id is empty"));
  }
  detail::launch<GroupDescription>(
      executor,
      [cluster, group = std::move(group),
       timeout](const detail::Strand&) -> asio::awaitable<Result<GroupDescription>> {
        const Deadline deadline(timeout);
        co_return co_await detail::describeGroupNow(*cluster, group, deadline);
      },
      std::move(done));
}

}  // namespace kafka::admin
