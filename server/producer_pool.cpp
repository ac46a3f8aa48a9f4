#include "server/producer_pool.hpp"

#include "client_core/common/log.hpp"

namespace kafka::sidecar {

ProducerPool::ProducerPool(boost::asio::any_io_executor executor, producer::ProducerConfig defaults)
    : executor_(std::move(executor)), defaults_(defaults) {}

Result<std::shared_ptr<producer::Producer>> ProducerPool::producerFor(
    const std::shared_ptr<Cluster>& cluster, const ProducerOverrides& overrides) {
  producer::ProducerConfig config = defaults_;
  if (overrides.acks) config.acks = *overrides.acks;
  if (overrides.compression) config.compression = *overrides.compression;
  Key key{cluster->name(), config.acks, config.compression};

  std::lock_guard lock(mutex_);
  if (closing_) return Error{ErrorCode::kShuttingDown, "the sidecar's producers are closing"};
  if (auto found = producers_.find(key); found != producers_.end()) return found->second;
  if (Result<void> valid = producer::Producer::validate(config); !valid.ok()) return valid.error();
  auto created = producer::Producer::create(executor_, cluster, config);
  producers_.emplace(std::move(key), created);
  KS_LOG_IN(kInfo, "producers", cluster->logContext(),
            "new producer with acks=" << static_cast<int>(config.acks) << " compression="
                                      << record::compressionName(config.compression)
                                      << (config.idempotent() ? ", idempotent" : ""));
  return created;
}

size_t ProducerPool::bufferedBytes() const {
  std::lock_guard lock(mutex_);
  size_t bytes = 0;
  for (const auto& [key, producer] : producers_) bytes += producer->bufferedBytes();
  return bytes;
}

void ProducerPool::startClose(std::chrono::milliseconds timeout) {
  std::lock_guard lock(mutex_);
  if (closing_) return;
  closing_ = true;
  closing_producers_ = producers_.size();
  for (const auto& [key, producer] : producers_) {
    producer->close(timeout, [this] {
      std::lock_guard done_lock(mutex_);
      if (--closing_producers_ == 0) closed_.notify_all();
    });
  }
}

bool ProducerPool::waitClosed(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  if (closed_.wait_for(lock, limit, [this] { return closing_producers_ == 0; })) return true;
  KS_LOG(kWarn, "producers",
         closing_producers_ << " producer(s) still had records after " << limit.count() << " ms");
  return false;
}

}  // namespace kafka::sidecar
