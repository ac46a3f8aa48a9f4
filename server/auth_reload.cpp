#include "server/auth_reload.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>
#include <vector>

#include "client_core/common/log.hpp"

namespace kafka::sidecar {

namespace asio = boost::asio;

TokenFileWatcher::TokenFileWatcher(asio::any_io_executor executor, std::string path,
                                   Authorizer& authorizer, std::chrono::milliseconds period)
    : strand_(asio::make_strand(std::move(executor))),
      path_(std::move(path)),
      authorizer_(authorizer),
      period_(period),
      timer_(strand_) {}

void TokenFileWatcher::start() {
  asio::co_spawn(strand_, watch(), asio::detached);
}

void TokenFileWatcher::stop() {
  asio::post(strand_, [this] {
    stopped_ = true;
    timer_.cancel();
  });
}

asio::awaitable<void> TokenFileWatcher::watch() {
  // What the Authorizer was built from, as far as the watcher can tell: a change from here on
  // is a reload.
  if (!readTokenFile(path_, seen_).empty()) seen_.clear();
  while (!stopped_) {
    timer_.expires_after(period_);
    auto [ec] = co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || stopped_) co_return;
    check();
  }
}

void TokenFileWatcher::check() {
  std::string text;
  if (std::string error = readTokenFile(path_, text); !error.empty()) {
    // Said once while it lasts: a Secret being swapped may be missing for a moment.
    if (!seen_.empty()) KS_LOG(kWarn, "auth", error << "; keeping the tokens in use");
    seen_.clear();
    return;
  }
  if (text == seen_) return;
  seen_ = text;
  std::vector<TokenGrant> tokens;
  if (std::string error = parseTokenFile(text, path_, tokens); !error.empty()) {
    KS_LOG(kWarn, "auth",
           "the tokens file changed and cannot be used; keeping the tokens in use: " << error);
    return;
  }
  std::string names;
  for (const TokenGrant& token : tokens) names += " '" + token.name + "'";
  authorizer_.replace(std::move(tokens));
  KS_LOG(kInfo, "auth", "bearer tokens reloaded from " << path_ << ":" << names);
}

}  // namespace kafka::sidecar
