// Minimal leveled logging for the client core. The daemon sets the level and the sink (so that
// it can add structure and context); by default lines go to stderr. Thread-safe.
//
//   KS_LOG(kInfo, "connection", "connected to " << host << ":" << port);
//
// The message expression is evaluated only when the level is enabled.
#pragma once

#include <atomic>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>

namespace kafka::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };

// "trace" ... "error", "off"; false for anything else.
bool parseLevel(std::string_view text, Level& out);
std::string_view levelName(Level level);

using Sink = std::function<void(Level, std::string_view component, std::string_view message)>;

void setLevel(Level level);
void setSink(Sink sink);
bool enabled(Level level);
void write(Level level, std::string_view component, std::string_view message);

}  // namespace kafka::log

#define KS_LOG(LEVEL, COMPONENT, EXPR)                                  \
  do {                                                                  \
    if (::kafka::log::enabled(::kafka::log::Level::LEVEL)) {            \
      std::ostringstream ks_log_stream_;                                \
      ks_log_stream_ << EXPR;                                           \
      ::kafka::log::write(::kafka::log::Level::LEVEL, COMPONENT, ks_log_stream_.str()); \
    }                                                                   \
  } while (false)
