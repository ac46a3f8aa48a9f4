#include "server/consumer_service.hpp"

#include <boost/asio/post.hpp>
#include <deque>
#include <mutex>
#include <utility>

#include "server/bidi_reactor.hpp"
#include "server/service_status.hpp"
#include "server/unary_reactor.hpp"

namespace kafka::sidecar {

namespace asio = boost::asio;

namespace {

using SubscribeReactor = grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>;

// Consecutive records of a partition are coalesced into one response up to about this many
// bytes, well below the 4 MiB that gRPC clients accept by default.
constexpr size_t kMaxRecordBytesPerWrite = 1024 * 1024;
// Events queued for a stream whose application does not read, at most; beyond, the call ends.
constexpr size_t kMaxQueuedEvents = 1000;
// Opening again when the session found closed before the call could attach.
constexpr int kAttachAttempts = 3;

std::string_view requestName(v1::SubscribeRequest::RequestCase request) {
  switch (request) {
    case v1::SubscribeRequest::kOpen:
      return "open";
    case v1::SubscribeRequest::kAck:
      return "ack";
    case v1::SubscribeRequest::kCommit:
      return "commit";
    case v1::SubscribeRequest::kSeek:
      return "seek";
    case v1::SubscribeRequest::kPause:
      return "pause";
    case v1::SubscribeRequest::kResume:
      return "resume";
    case v1::SubscribeRequest::kClose:
      return "close";
    case v1::SubscribeRequest::REQUEST_NOT_SET:
      break;
  }
  return "an empty message";
}

// The error event that answers a stream's request the session refused.
v1::ConsumerEvent refusal(const grpc::Status& status) {
  v1::ConsumerEvent event;
  fillKafkaError(Error{ErrorCode::kInvalidArgument, status.error_message()},
                 *event.mutable_error()->mutable_error());
  return event;
}

grpc::Status unparsableRequest() {
  return {grpc::StatusCode::INVALID_ARGUMENT,
          "a SubscribeRequest that does not parse as kafka.sidecar.v1.SubscribeRequest"};
}

void answer(const std::shared_ptr<UnaryReactor::Finisher>& finisher, grpc::Status status) {
  if (finisher->claim()) finisher->finish(std::move(status));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Subscribe

// One Subscribe call. Until the first message is read it lives on gRPC's threads; from then on,
// everything but the reactor guard below lives on its session's strand. The reactor is used
// under the mutex only (gRPC runs no reaction of a bidi stream inline, so none re-enters), and
// only until the call is finished.
class SubscribeCall final : public SessionOutlet,
                            public std::enable_shared_from_this<SubscribeCall> {
 public:
  SubscribeCall(ConsumerSessions& sessions, Caller caller)
      : sessions_(sessions), caller_(std::move(caller)) {}

  // A `refusal` other than OK ends the call at once.
  void start(SubscribeReactor* reactor, grpc::Status refusal) {
    std::lock_guard lock(mutex_);
    reactor_ = reactor;
    if (refusal.ok()) {
      reactor_->StartRead(&request_bytes_);
    } else {
      finished_ = true;
      reactor_->Finish(std::move(refusal));
    }
  }

  // ---- gRPC reactions (gRPC's threads). ----

  void onReadDone(bool ok) {
    if (ok) {
      request_.Clear();
      if (!grpc::SerializationTraits<v1::SubscribeRequest>::Deserialize(&request_bytes_, &request_)
               .ok()) {
        request_.Clear();
        unparsable_ = true;
      }
    }
    std::shared_ptr<ConsumerSession> current = session();
    if (!current) {
      openSession(ok);
      return;
    }
    asio::post(current->strand(), [self = shared_from_this(), ok] { self->handleMessage(ok); });
  }

  void onWriteDone(bool ok) {
    asio::post(session()->strand(), [self = shared_from_this(), ok] { self->writeDone(ok); });
  }

  void onCancel() {
    finish(grpc::Status::CANCELLED);
    if (std::shared_ptr<ConsumerSession> current = session()) {
      asio::post(current->strand(), [self = shared_from_this()] { self->gone(); });
    }
  }

  void onDone() {
    std::shared_ptr<ConsumerSession> current;
    {
      std::lock_guard lock(mutex_);
      reactor_ = nullptr;
      finished_ = true;
      current = session_;
    }
    if (current) asio::post(current->strand(), [self = shared_from_this()] { self->gone(); });
  }

  // ---- SessionOutlet (the session's strand). ----

  void sendRecords(const TopicPartition& partition, std::vector<EncodedRecord> records) override {
    if (ended_) return;
    size_t bytes = 0;
    for (const EncodedRecord& record : records) bytes += record.bytes.size();
    // Into the partition's last queued response, unless an event was queued after it (events
    // keep their place among the records).
    for (auto queued = queue_.rbegin(); queued != queue_.rend() && queued->partition; ++queued) {
      if (*queued->partition != partition) continue;
      if (queued->bytes + bytes > kMaxRecordBytesPerWrite) break;
      queued->records.insert(queued->records.end(), std::make_move_iterator(records.begin()),
                             std::make_move_iterator(records.end()));
      queued->bytes += bytes;
      maybeWrite();
      return;
    }
    Queued& entry = queue_.emplace_back();
    entry.partition = partition;
    entry.records = std::move(records);
    entry.bytes = bytes;
    maybeWrite();
  }

  void sendEvent(const v1::ConsumerEvent& event) override {
    if (ended_) return;
    if (queued_events_ >= kMaxQueuedEvents) {
      if (overflowing_) return;
      overflowing_ = true;
      // Not from inside the session's own call: end the call in a turn of its own.
      asio::post(session()->strand(), [self = shared_from_this()] {
        self->detachAndEnd({grpc::StatusCode::RESOURCE_EXHAUSTED,
                            "the application read no responses while " +
                                std::to_string(kMaxQueuedEvents) +
                                " events waited for it; its unacked records go to other calls"});
      });
      return;
    }
    *queue_.emplace_back().message.mutable_event() = event;
    ++queued_events_;
    maybeWrite();
  }

  void withdraw(const TopicPartition& partition,
                const std::function<bool(int64_t)>& drop) override {
    for (auto entry = queue_.begin(); entry != queue_.end();) {
      if (entry->partition != partition) {
        ++entry;
        continue;
      }
      std::erase_if(entry->records,
                    [&drop](const EncodedRecord& record) { return drop(record.offset); });
      if (entry->records.empty()) {
        entry = queue_.erase(entry);
        continue;
      }
      entry->bytes = 0;
      for (const EncodedRecord& record : entry->records) entry->bytes += record.bytes.size();
      ++entry;
    }
  }

  void end(grpc::Status status) override {
    attached_ = false;
    endCall(std::move(status));
  }

 private:
  // Records of one partition, or else `message` (`opened` or an event).
  struct Queued {
    std::optional<TopicPartition> partition;
    std::vector<EncodedRecord> records;
    size_t bytes = 0;  // of the records, for coalescing
    v1::SubscribeResponse message;
  };

  std::shared_ptr<ConsumerSession> session() const {
    std::lock_guard lock(mutex_);
    return session_;
  }

  // The first message (gRPC's thread, or a strand when attaching again).
  void openSession(bool ok) {
    if (!ok) {
      finish(grpc::Status::OK);  // the application ended the call without opening anything
      return;
    }
    if (unparsable_) {
      finish(unparsableRequest());
      return;
    }
    if (request_.request_case() != v1::SubscribeRequest::kOpen) {
      finish({grpc::StatusCode::INVALID_ARGUMENT,
              "the first SubscribeRequest must be `open`, not " +
                  std::string(requestName(request_.request_case()))});
      return;
    }
    attach(1);
  }

  void attach(int attempt) {
    ConsumerSessions::Opened opened;
    if (grpc::Status status = sessions_.open(request_.open(), false, caller_, opened);
        !status.ok()) {
      finish(std::move(status));
      return;
    }
    {
      std::lock_guard lock(mutex_);
      session_ = opened.session;
    }
    asio::post(opened.session->strand(), [self = shared_from_this(), opened, attempt] {
      if (self->gone_ || self->finished()) return;
      // First in the queue: what attaching delivers follows it.
      v1::SessionOpened& reply = *self->queue_.emplace_back().message.mutable_opened();
      reply.set_session_id(opened.session->id());
      reply.set_attached(opened.attached);
      if (!opened.session->attach(self)) {
        self->queue_.clear();
        if (attempt >= kAttachAttempts) {
          self->finish({grpc::StatusCode::UNAVAILABLE,
                        "the session kept closing while this call attached to it; try again"});
        } else {
          self->attach(attempt + 1);
        }
        return;
      }
      self->attached_ = true;
      self->maybeWrite();
      self->startRead();
    });
  }

  // ---- The session's strand. ----

  void handleMessage(bool ok) {
    if (gone_ || ended_) return;
    std::shared_ptr<ConsumerSession> current = session();
    if (!ok) {
      // The application is done. With `close`, the session ends this call once it has closed.
      if (close_requested_ && attached_) {
        current->close(ConsumerSession::CloseReason::kRequested, this, nullptr);
      } else {
        detachAndEnd(grpc::Status::OK);
      }
      return;
    }
    if (unparsable_) {
      detachAndEnd(unparsableRequest());
      return;
    }
    grpc::Status refused;
    switch (request_.request_case()) {
      case v1::SubscribeRequest::kOpen:
        detachAndEnd({grpc::StatusCode::INVALID_ARGUMENT,
                      "`open` may only be the first message of a Subscribe call"});
        return;
      case v1::SubscribeRequest::kAck:
        refused = current->ack(request_.ack().partitions());
        break;
      case v1::SubscribeRequest::kCommit:
        if (request_.commit()) current->commit(nullptr);
        break;
      case v1::SubscribeRequest::kSeek:
        refused = current->seek(request_.seek(), nullptr);
        break;
      case v1::SubscribeRequest::kPause:
        refused = current->pause(request_.pause().partitions());
        break;
      case v1::SubscribeRequest::kResume:
        refused = current->resume(request_.resume().partitions());
        break;
      case v1::SubscribeRequest::kClose:
        close_requested_ = close_requested_ || request_.close();
        break;
      case v1::SubscribeRequest::REQUEST_NOT_SET:
        refused = {grpc::StatusCode::INVALID_ARGUMENT, "a SubscribeRequest with no request set"};
        break;
    }
    if (!refused.ok()) sendEvent(refusal(refused));
    if (!ended_) startRead();
  }

  void writeDone(bool ok) {
    writing_ = false;
    if (gone_) return;
    if (!ok) {
      finish({grpc::StatusCode::CANCELLED, "the stream broke while responses were written"});
      gone();
      return;
    }
    if (written_.partition && attached_) {
      session()->written(this, *written_.partition, written_.records);
    }
    written_ = {};
    maybeWrite();
    maybeFinish();
  }

  // The call is over for the application: its records go to other calls, unless it asked for
  // the session to close.
  void gone() {
    if (gone_) return;
    gone_ = true;
    ended_ = true;
    queue_.clear();
    if (!attached_) return;
    if (close_requested_) {
      session()->close(ConsumerSession::CloseReason::kRequested, this, nullptr);
    } else {
      attached_ = false;
      session()->detach(this);
    }
  }

  void detachAndEnd(grpc::Status status) {
    if (attached_) {
      attached_ = false;
      session()->detach(this);
    }
    endCall(std::move(status));
  }

  // No more reads, and no records: the events queued are written, then the call finishes.
  void endCall(grpc::Status status) {
    if (ended_) return;
    ended_ = true;
    end_status_ = std::move(status);
    std::erase_if(queue_, [](const Queued& entry) { return entry.partition.has_value(); });
    maybeFinish();
  }

  void maybeWrite() {
    if (writing_ || queue_.empty() || gone_) return;
    written_ = std::move(queue_.front());
    queue_.pop_front();
    if (written_.partition) {
      response_ = recordsResponse(*written_.partition, written_.records);
    } else {
      if (written_.message.has_event()) --queued_events_;
      bool own_buffer = false;
      response_.Clear();
      if (!grpc::SerializationTraits<v1::SubscribeResponse>::Serialize(written_.message,
                                                                        &response_, &own_buffer)
               .ok()) {
        finish({grpc::StatusCode::INTERNAL, "a response could not be serialized"});
        gone();
        return;
      }
    }
    writing_ = startWrite();
  }

  void maybeFinish() {
    if (ended_ && !gone_ && !writing_ && queue_.empty()) finish(end_status_);
  }

  // ---- The reactor guard (any thread). ----

  bool finished() const {
    std::lock_guard lock(mutex_);
    return finished_;
  }

  void finish(grpc::Status status) {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    reactor_->Finish(std::move(status));
  }

  void startRead() {
    std::lock_guard lock(mutex_);
    if (!finished_) reactor_->StartRead(&request_bytes_);
  }

  bool startWrite() {
    std::lock_guard lock(mutex_);
    if (finished_) return false;
    reactor_->StartWrite(&response_);
    return true;
  }

  ConsumerSessions& sessions_;
  const Caller caller_;

  mutable std::mutex mutex_;  // guards the three members below
  SubscribeReactor* reactor_ = nullptr;
  bool finished_ = false;  // Finish was called (or the call is done)
  std::shared_ptr<ConsumerSession> session_;

  // Read into by gRPC while a read is outstanding, and parsed into request_ (or found
  // unparsable) as the read completes; handled before the next read starts.
  grpc::ByteBuffer request_bytes_;
  v1::SubscribeRequest request_;
  bool unparsable_ = false;

  // The session's strand.
  bool attached_ = false;
  bool close_requested_ = false;
  bool ended_ = false;  // no more reads, records or events
  bool gone_ = false;   // cancelled, broken or done: nothing more is written
  bool overflowing_ = false;
  grpc::Status end_status_;
  std::deque<Queued> queue_;
  size_t queued_events_ = 0;
  Queued written_;             // what response_ holds, until its write is done
  grpc::ByteBuffer response_;  // gRPC's while writing_
  bool writing_ = false;
};

namespace {

grpc::ServerUnaryReactor* finishedWith(grpc::Status status) {
  auto* reactor = new UnaryReactor();
  reactor->finishNow(std::move(status));
  return reactor;
}

// Looks the session up and runs work(session, finisher) on its strand; answers UNAUTHENTICATED
// itself for a call without a known token, NOT_FOUND (or INVALID_ARGUMENT for an empty id) when
// there is no such session, and PERMISSION_DENIED when the caller's token did not open it.
template <class Work>
grpc::ServerUnaryReactor* onSession(ConsumerSessions& sessions, const Authorizer& authorizer,
                                    const grpc::CallbackServerContext& context,
                                    const std::string& id, Work work) {
  Caller caller;
  if (grpc::Status status = authorizer.authenticate(context, caller); !status.ok()) {
    return finishedWith(std::move(status));
  }
  if (id.empty()) return finishedWith({grpc::StatusCode::INVALID_ARGUMENT, "session_id is empty"});
  std::shared_ptr<ConsumerSession> session = sessions.find(id);
  if (!session) return finishedWith(ConsumerSessions::unknownSession(id));
  if (grpc::Status status = ConsumerSessions::mayUse(caller, *session); !status.ok()) {
    return finishedWith(std::move(status));
  }
  auto* reactor = new UnaryReactor();
  asio::post(session->strand(), [session, finisher = reactor->finisher(),
                                 work = std::move(work)]() mutable { work(*session, finisher); });
  return reactor;
}

}  // namespace

SubscribeReactor* ConsumerService::Subscribe(grpc::CallbackServerContext* context) {
  Caller caller;
  grpc::Status refusal = authorizer_.authenticate(*context, caller);
  auto call = std::make_shared<SubscribeCall>(sessions_, std::move(caller));
  auto* reactor = new BidiReactor<SubscribeCall, grpc::ByteBuffer, grpc::ByteBuffer>(call);
  call->start(reactor, std::move(refusal));
  return reactor;
}

// ---------------------------------------------------------------------------------------------
// Unary calls

grpc::ServerUnaryReactor* ConsumerService::Open(grpc::CallbackServerContext* context,
                                                const v1::OpenRequest* request,
                                                v1::OpenResponse* response) {
  Caller caller;
  ConsumerSessions::Opened opened;
  grpc::Status status = authorizer_.authenticate(*context, caller);
  if (status.ok()) status = sessions_.open(request->spec(), true, caller, opened);
  if (!status.ok()) return finishedWith(std::move(status));
  auto* reactor = new UnaryReactor();
  response->set_session_id(opened.session->id());
  response->set_attached(opened.attached);
  asio::post(opened.session->strand(), [session = opened.session] { session->touch(true); });
  reactor->finishNow(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* ConsumerService::Poll(grpc::CallbackServerContext* context,
                                                const v1::PollRequest* request,
                                                v1::PollResponse* response) {
  ConsumerSession::PollLimits limits{kDefaultPollRecords, kDefaultPollBytes, kDefaultPollTimeout};
  auto bad = [](std::string message) {
    return finishedWith({grpc::StatusCode::INVALID_ARGUMENT, std::move(message)});
  };
  if (request->has_max_records()) {
    if (request->max_records() == 0) return bad("max_records is 0; it must be at least 1");
    limits.max_records = request->max_records();
  }
  if (request->has_max_bytes()) {
    if (request->max_bytes() == 0) return bad("max_bytes is 0; it must be at least 1");
    limits.max_bytes = request->max_bytes();
  }
  if (request->has_timeout_ms()) {
    limits.timeout = std::min(std::chrono::milliseconds(request->timeout_ms()), kMaxPollTimeout);
  }
  // Answer before the caller's deadline, so that a Poll that found nothing ends OK.
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      context->deadline() - std::chrono::system_clock::now() - std::chrono::milliseconds(50));
  limits.timeout = std::max(std::chrono::milliseconds(0), std::min(limits.timeout, left));
  return onSession(sessions_, authorizer_, *context, request->session_id(),
                   [limits, response](ConsumerSession& session,
                                      const std::shared_ptr<UnaryReactor::Finisher>& finisher) {
                     session.touch(true);
                     session.poll(limits, response, finisher);
                   });
}

grpc::ServerUnaryReactor* ConsumerService::Ack(grpc::CallbackServerContext* context,
                                               const v1::AckRequest* request,
                                               v1::AckResponse* /*response*/) {
  // Copied: a cancelled call frees the request before the strand gets to it.
  return onSession(
      sessions_, authorizer_, *context, request->session_id(),
      [partitions = request->partitions()](
          ConsumerSession& session, const std::shared_ptr<UnaryReactor::Finisher>& finisher) {
        session.touch(false);
        answer(finisher, session.ack(partitions));
      });
}

grpc::ServerUnaryReactor* ConsumerService::Commit(grpc::CallbackServerContext* context,
                                                  const v1::CommitRequest* request,
                                                  v1::CommitResponse* response) {
  return onSession(sessions_, authorizer_, *context, request->session_id(),
                   [response](ConsumerSession& session,
                              const std::shared_ptr<UnaryReactor::Finisher>& finisher) {
                     session.touch(false);
                     session.commit([response, finisher](grpc::Status status,
                                                         std::vector<v1::PartitionCommit> commits) {
                       if (!finisher->claim()) return;
                       for (v1::PartitionCommit& commit : commits)
                         *response->add_partitions() = std::move(commit);
                       finisher->finish(std::move(status));
                     });
                   });
}

grpc::ServerUnaryReactor* ConsumerService::Seek(grpc::CallbackServerContext* context,
                                                const v1::SeekRequest* request,
                                                v1::SeekResponse* response) {
  return onSession(
      sessions_, authorizer_, *context, request->session_id(),
      [target = request->target(), response](
          ConsumerSession& session, const std::shared_ptr<UnaryReactor::Finisher>& finisher) {
        session.touch(false);
        grpc::Status refused =
            session.seek(target, [response, finisher](grpc::Status status, int64_t offset) {
              if (!finisher->claim()) return;
              response->set_offset(offset);
              finisher->finish(std::move(status));
            });
        if (!refused.ok()) answer(finisher, std::move(refused));
      });
}

grpc::ServerUnaryReactor* ConsumerService::Close(grpc::CallbackServerContext* context,
                                                 const v1::CloseRequest* request,
                                                 v1::CloseResponse* response) {
  return onSession(sessions_, authorizer_, *context, request->session_id(),
                   [response](ConsumerSession& session,
                              const std::shared_ptr<UnaryReactor::Finisher>& finisher) {
                     session.close(ConsumerSession::CloseReason::kRequested, nullptr,
                                   [response, finisher](std::vector<v1::PartitionCommit> commits) {
                                     if (!finisher->claim()) return;
                                     for (v1::PartitionCommit& commit : commits) {
                                       *response->add_partitions() = std::move(commit);
                                     }
                                     finisher->finish(grpc::Status::OK);
                                   });
                   });
}

}  // namespace kafka::sidecar
