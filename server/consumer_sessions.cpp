#include "server/consumer_sessions.hpp"

#include <boost/asio/post.hpp>
#include <cstdio>
#include <random>
#include <vector>

#include "client_core/common/log.hpp"
#include "server/service_status.hpp"

namespace kafka::sidecar {

namespace {

// 128 random bits in hex: ids that cannot be guessed from one another.
std::string randomId() {
  std::random_device random;
  std::string id;
  for (int i = 0; i < 4; ++i) {
    char chunk[9];
    std::snprintf(chunk, sizeof chunk, "%08x", static_cast<unsigned>(random()));
    id += chunk;
  }
  return id;
}

// What opening a session of `spec` (resolved) needs of the caller's token: its group, and to
// consume its topics (every topic, for a pattern that later topics may match).
grpc::Status mayOpen(const Caller& caller, const v1::SessionSpec& spec) {
  grpc::Status status = caller.mayUseGroup(spec.group());
  for (const std::string& topic : spec.topics()) {
    if (status.ok()) status = caller.mayConsume(topic);
  }
  for (const v1::TopicPartitions& assigned : spec.assignment()) {
    if (status.ok()) status = caller.mayConsume(assigned.topic());
  }
  if (status.ok() && !spec.topic_pattern().empty()) {
    status = caller.mayConsumeAll("subscribe to topic_pattern '" + spec.topic_pattern() + "'");
  }
  return status;
}

}  // namespace

ConsumerSessions::ConsumerSessions(boost::asio::any_io_executor executor,
                                   const ClusterRegistry& clusters, ConsumerSessionConfig config,
                                   Metrics& metrics)
    : executor_(std::move(executor)), clusters_(clusters), config_(config), metrics_(metrics) {}

ConsumerSessions::~ConsumerSessions() = default;

grpc::Status ConsumerSessions::open(const v1::SessionSpec& spec, bool polling, const Caller& caller,
                                    Opened& out) {
  std::shared_ptr<Cluster> cluster = clusters_.find(spec.cluster());
  if (!cluster) return unknownCluster(clusters_, spec.cluster());
  ResolvedSpec resolved;
  if (grpc::Status status = resolveSpec(spec, cluster->name(), config_, resolved); !status.ok()) {
    return status;
  }
  if (grpc::Status status = mayOpen(caller, resolved.spec); !status.ok()) return status;
  resolved.owner = caller.name();
  Key key{cluster->name(), resolved.spec.group(), resolved.spec.name()};
  {
    std::lock_guard lock(mutex_);
    if (closing_) {
      return {grpc::StatusCode::UNAVAILABLE,
              "the sidecar is shutting down and opens no consumer sessions"};
    }
    if (auto found = by_name_.find(key); found != by_name_.end()) {
      if (grpc::Status status = mayUse(caller, *found->second); !status.ok()) return status;
      std::string difference = specDifference(found->second->spec(), resolved.spec);
      if (!difference.empty()) {
        return {grpc::StatusCode::FAILED_PRECONDITION,
                "session '" + resolved.spec.name() + "' of group '" + resolved.spec.group() +
                    "' is open with another spec: " + difference};
      }
      out = {found->second, true};
      return grpc::Status::OK;
    }
    if (by_name_.size() >= config_.max_sessions) {
      return {grpc::StatusCode::RESOURCE_EXHAUSTED,
              "the sidecar holds " + std::to_string(by_name_.size()) +
                  " consumer sessions, its maximum (--max-consumer-sessions); close one first"};
    }
    std::shared_ptr<consumer::Fetcher>& fetcher = fetchers_[cluster->name()];
    if (!fetcher) fetcher = consumer::Fetcher::create(executor_, cluster, config_.fetch);
    ConsumerSession::Hooks hooks{
        .closing = [this](const ConsumerSession& session) { forget(session); },
        .closed = [this] { closed(); }};
    Metrics::SessionCounters counters = metrics_.session(resolved.spec.group());
    out.session = ConsumerSession::create(executor_, randomId(), cluster, fetcher,
                                          std::move(resolved), std::move(hooks), counters);
    out.attached = false;
    by_name_.emplace(std::move(key), out.session);
    by_id_.emplace(out.session->id(), out.session);
    ++unclosed_;
    metrics_.sessionsOpen().Increment();
  }
  out.session->start(polling);
  return grpc::Status::OK;
}

std::shared_ptr<ConsumerSession> ConsumerSessions::find(std::string_view id) const {
  std::lock_guard lock(mutex_);
  auto found = by_id_.find(id);
  return found == by_id_.end() ? nullptr : found->second;
}

grpc::Status ConsumerSessions::unknownSession(std::string_view id) {
  return {grpc::StatusCode::NOT_FOUND,
          "no open consumer session has id '" + std::string(id) +
              "' (it was closed, expired after its idle TTL, or never opened)"};
}

grpc::Status ConsumerSessions::mayUse(const Caller& caller, const ConsumerSession& session) {
  if (session.owner() == caller.name()) return grpc::Status::OK;
  return {grpc::StatusCode::PERMISSION_DENIED,
          "token '" + caller.name() + "' may not use consumer session '" + session.spec().name() +
              "' of group '" + session.spec().group() + "' (id " + session.id() +
              "): another token opened it"};
}

size_t ConsumerSessions::size() const {
  std::lock_guard lock(mutex_);
  return by_name_.size();
}

void ConsumerSessions::forget(const ConsumerSession& session) {
  std::lock_guard lock(mutex_);
  by_id_.erase(session.id());
  const v1::SessionSpec& spec = session.spec();
  auto found = by_name_.find(Key{spec.cluster(), spec.group(), spec.name()});
  if (found != by_name_.end() && found->second.get() == &session) by_name_.erase(found);
}

void ConsumerSessions::closed() {
  metrics_.sessionsOpen().Decrement();
  std::lock_guard lock(mutex_);
  if (--unclosed_ == 0) all_closed_.notify_all();
}

void ConsumerSessions::startClose() {
  std::vector<std::shared_ptr<ConsumerSession>> sessions;
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    closing_ = true;
    for (const auto& [key, session] : by_name_) sessions.push_back(session);
  }
  for (const auto& session : sessions) {
    boost::asio::post(session->strand(), [session] {
      session->close(ConsumerSession::CloseReason::kShutdown, nullptr, nullptr);
    });
  }
}

bool ConsumerSessions::waitClosed(std::chrono::milliseconds limit) {
  std::map<std::string, std::shared_ptr<consumer::Fetcher>> fetchers;
  bool done = false;
  {
    std::unique_lock lock(mutex_);
    done = all_closed_.wait_for(lock, limit, [this] { return unclosed_ == 0; });
    if (!done) {
      KS_LOG(kWarn, "consumer-sessions",
             unclosed_ << " consumer session(s) had not closed after " << limit.count() << " ms");
    }
    fetchers = fetchers_;
  }
  for (const auto& [cluster, fetcher] : fetchers) fetcher->stop();
  return done;
}

}  // namespace kafka::sidecar
