// Leveled, structured logging for the client core and the daemon. Each entry has a level, a
// component ("group", "connection", "daemon", ...), a message, and the context it is about
// (cluster, group, topic, partition, broker, session), each part of the context optional.
//
//   KS_LOG(kInfo, "daemon", "listening on " << address);
//   KS_LOG_IN(kWarn, "group", (log::Context{.cluster = name, .group = id}), "JoinGroup failed");
//
// The message expression is evaluated only when the level is enabled. Entries are written as
// one line each to stderr, in text ("2026-11-21T18:25:17.123Z warn  [group] JoinGroup failed
// cluster=default group=orders") or as JSON objects, one per line; setSink() redirects them
// (tests). Control characters, and in JSON invalid UTF-8, are escaped, so a group id or topic
// chosen by an application cannot forge or break a line. Nothing here knows what a secret is:
// callers never pass one.
//
// Thread-safe: the level, format and sink may be set while other threads log.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>

namespace kafka::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };
enum class Format { kText, kJson };

// "trace" ... "error", "off"; false for anything else.
bool parseLevel(std::string_view text, Level& out);
std::string_view levelName(Level level);
// "text" or "json"; false for anything else.
bool parseFormat(std::string_view text, Format& out);
std::string_view formatName(Format format);

// What an entry is about. The views must outlive the KS_LOG_IN statement only.
struct Context {
  std::string_view cluster{};
  std::string_view group{};
  std::string_view topic{};
  int32_t partition = -1;  // -1: none
  int32_t broker = -1;     // the broker's node id; -1: none (or a bootstrap address)
  std::string_view session{};
};

struct Entry {
  std::chrono::system_clock::time_point time;
  Level level;
  std::string_view component;
  const Context& context;
  std::string_view message;
};

// The entry as one line in the format, with its trailing '\n'.
std::string formatEntry(const Entry& entry, Format format);

using Sink = std::function<void(const Entry&)>;

void setLevel(Level level);
void setFormat(Format format);
// An empty sink restores the default: formatted lines on stderr.
void setSink(Sink sink);
bool enabled(Level level);
void write(Level level, std::string_view component, const Context& context,
           std::string_view message);

}  // namespace kafka::log

#define KS_LOG_IN(LEVEL, COMPONENT, CONTEXT, EXPR)                                               \
  do {                                                                                           \
    if (::kafka::log::enabled(::kafka::log::Level::LEVEL)) {                                     \
      std::ostringstream ks_log_stream_;                                                         \
      ks_log_stream_ << EXPR;                                                                    \
      ::kafka::log::write(::kafka::log::Level::LEVEL, COMPONENT, CONTEXT, ks_log_stream_.str()); \
    }                                                                                            \
  } while (false)

#define KS_LOG(LEVEL, COMPONENT, EXPR) KS_LOG_IN(LEVEL, COMPONENT, ::kafka::log::Context{}, EXPR)
