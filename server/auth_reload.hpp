// TokenFileWatcher: keeps an Authorizer's tokens in step with the tokens file, so that rotating a
// token (a Kubernetes Secret updated in place) needs no restart. Every `period` it reads the
// file; when the contents changed and parse, the Authorizer gets the new tokens (and the change
// is logged with the tokens' names); when they do not parse, the tokens in use are kept and the
// error is logged (never a token). Sessions stay with the token name that opened them.
//
// Owned by the Daemon, which calls stop() before the io_context stops running. Its work runs on
// a strand of the executor given; start() and stop() may be called from any thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <string>

#include "server/auth.hpp"

namespace kafka::sidecar {

class TokenFileWatcher {
 public:
  TokenFileWatcher(boost::asio::any_io_executor executor, std::string path, Authorizer& authorizer,
                   std::chrono::milliseconds period = kDefaultPeriod);

  // Starts watching; the file's contents now count as the ones in use.
  void start();
  // Stops watching (the wait in progress is cancelled). Idempotent.
  void stop();

  static constexpr std::chrono::milliseconds kDefaultPeriod{5'000};

 private:
  boost::asio::awaitable<void> watch();
  // Reads the file; gives the Authorizer its tokens when they changed and parse.
  void check();

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  const std::string path_;
  Authorizer& authorizer_;
  const std::chrono::milliseconds period_;
  boost::asio::steady_timer timer_;  // on strand_
  std::string seen_;                 // the contents read last, parsed or not; on strand_
  bool stopped_ = false;             // on strand_
};

}  // namespace kafka::sidecar
