#include "client_core/common/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace kafka::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::mutex g_sink_mutex;
Sink g_sink;  // guarded by g_sink_mutex; empty means stderr

void writeStderr(Level level, std::string_view component, std::string_view message) {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &utc);
  std::fprintf(stderr, "%s.%03dZ %-5s [%.*s] %.*s\n", stamp, static_cast<int>(millis),
               levelName(level).data(), static_cast<int>(component.size()), component.data(),
               static_cast<int>(message.size()), message.data());
}

}  // namespace

bool parseLevel(std::string_view text, Level& out) {
  for (Level l : {Level::kTrace, Level::kDebug, Level::kInfo, Level::kWarn, Level::kError,
                  Level::kOff}) {
    if (text == levelName(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

std::string_view levelName(Level level) {
  switch (level) {
    case Level::kTrace: return "trace";
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
    case Level::kOff: return "off";
  }
  return "?";
}

void setLevel(Level level) { g_level.store(level, std::memory_order_relaxed); }

void setSink(Sink sink) {
  std::lock_guard lock(g_sink_mutex);
  g_sink = std::move(sink);
}

bool enabled(Level level) {
  return level != Level::kOff && level >= g_level.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view component, std::string_view message) {
  std::lock_guard lock(g_sink_mutex);
  if (g_sink) {
    g_sink(level, component, message);
  } else {
    writeStderr(level, component, message);
  }
}

}  // namespace kafka::log
