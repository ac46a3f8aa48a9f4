// ConsumerSessions: the daemon's open consumer sessions, by name (cluster, group, name) for
// opening and attaching, and by id for the unary calls; and one Fetcher per cluster, created on
// first use and shared by all the cluster's sessions.
//
// With bearer tokens, a session belongs to the token that opened it: opening needs the rights to
// its group and topics (a topic pattern needs every topic), and attaching to it or using it by id
// with another token is refused (PERMISSION_DENIED).
//
// Opening a name that is open attaches to its session when the resolved specs are equal, and is
// refused (FAILED_PRECONDITION, naming the first field that differs) otherwise. A session leaves
// the registry when it starts closing, so that opening its name again makes a new session.
//
// The sessions-open gauge counts sessions from creation until they have closed.
//
// Owned by the Daemon, which closes every session at shutdown (startClose(), waitClosed()) before
// the clusters stop, and outlives the sessions' strand work (the I/O threads are joined first).
// Any thread: a mutex guards the maps only; no session method runs under it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

#include "client_core/cluster/cluster.hpp"
#include "client_core/consumer/fetcher.hpp"
#include "server/auth.hpp"
#include "server/config.hpp"
#include "server/consumer_session.hpp"
#include "server/metrics.hpp"

namespace kafka::sidecar {

class ConsumerSessions {
 public:
  // `metrics` must outlive the sessions (see waitClosed()).
  ConsumerSessions(boost::asio::any_io_executor executor, const ClusterRegistry& clusters,
                   ConsumerSessionConfig config, Metrics& metrics);
  ~ConsumerSessions();
  ConsumerSessions(const ConsumerSessions&) = delete;
  ConsumerSessions& operator=(const ConsumerSessions&) = delete;

  struct Opened {
    std::shared_ptr<ConsumerSession> session;
    bool attached = false;  // it was open already
  };
  // Opens the session `spec` names for `caller`, or finds it open; `polling` for Open (see
  // ConsumerSession::start()). NOT_FOUND for an unknown cluster,
  // INVALID_ARGUMENT for a spec that cannot be used, PERMISSION_DENIED for what the caller's
  // token is not granted or a session another token opened, FAILED_PRECONDITION for a spec that
  // differs from the open session's, RESOURCE_EXHAUSTED when max_sessions are open, UNAVAILABLE
  // once closing.
  grpc::Status open(const v1::SessionSpec& spec, bool polling, const Caller& caller, Opened& out);
  // The open session with this id, or nullptr.
  std::shared_ptr<ConsumerSession> find(std::string_view id) const;
  // NOT_FOUND naming the id, for calls that name no open session.
  static grpc::Status unknownSession(std::string_view id);
  // OK when `caller` may use `session` (its token opened it), else PERMISSION_DENIED.
  static grpc::Status mayUse(const Caller& caller, const ConsumerSession& session);
  size_t size() const;

  // Refuses new sessions and closes every open one (final commit, then LeaveGroup); their
  // streams end with UNAVAILABLE. Idempotent.
  void startClose();
  // After startClose(): blocks until every session has closed, or `limit` has passed (false),
  // then stops the fetchers. Call from a thread that is not an I/O thread.
  bool waitClosed(std::chrono::milliseconds limit);

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // cluster, group, name

  void forget(const ConsumerSession& session);
  void closed();

  const boost::asio::any_io_executor executor_;
  const ClusterRegistry& clusters_;
  const ConsumerSessionConfig config_;
  Metrics& metrics_;

  mutable std::mutex mutex_;  // guards the members below
  std::condition_variable all_closed_;
  std::map<Key, std::shared_ptr<ConsumerSession>> by_name_;
  std::map<std::string, std::shared_ptr<ConsumerSession>, std::less<>> by_id_;
  std::map<std::string, std::shared_ptr<consumer::Fetcher>> fetchers_;  // by cluster name
  size_t unclosed_ = 0;  // sessions created and not closed yet, closing ones included
  bool closing_ = false;
};

}  // namespace kafka::sidecar
