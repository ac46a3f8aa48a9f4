#include "client_core/common/log.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "client_core/common/utf8.hpp"

namespace kafka::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<Format> g_format{Format::kText};
std::mutex g_sink_mutex;
Sink g_sink;  // guarded by g_sink_mutex; empty means stderr

constexpr char kHex[] = "0123456789abcdef";

// "2026-11-21T18:25:17.123Z"
void appendTimestamp(std::string& out, std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[40];
  const size_t length = std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &utc);
  out.append(stamp, length);
  std::snprintf(stamp, sizeof(stamp), ".%03dZ", static_cast<int>(millis));
  out += stamp;
}

// Text: control characters become \xNN (and a backslash \\), so that an entry stays one line
// and nothing in it reads as another entry. With `quote`, '"' is escaped too.
void appendTextEscaped(std::string& out, std::string_view text, bool quote) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\' || (quote && c == '"')) {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
}

// logfmt: key=value, the value quoted when it is empty or holds a space, '=' or '"'.
void appendTextField(std::string& out, std::string_view key, std::string_view value) {
  out += ' ';
  out += key;
  out += '=';
  const bool quote = value.empty() || value.find_first_of(" =\"") != std::string_view::npos;
  if (quote) out += '"';
  appendTextEscaped(out, value, quote);
  if (quote) out += '"';
}

// A JSON string's contents: valid UTF-8 whatever the input (U+FFFD for each byte that is not
// part of a well-formed sequence), with quotes, backslashes and control characters escaped.
void appendJsonEscaped(std::string& out, std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const auto u = static_cast<unsigned char>(text[i]);
    if (u >= 0x80) {
      const size_t length = utf8SequenceLength(text.substr(i));
      if (length == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    if (u == '"' || u == '\\') {
      out += '\\';
      out += static_cast<char>(u);
    } else if (u == '\n') {
      out += "\\n";
    } else if (u == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += static_cast<char>(u);
    }
    ++i;
  }
}

void appendJsonField(std::string& out, std::string_view key, std::string_view value) {
  out += ",\"";
  out += key;
  out += "\":\"";
  appendJsonEscaped(out, value);
  out += '"';
}

void appendJsonNumber(std::string& out, std::string_view key, int32_t value) {
  out += ",\"";
  out += key;
  out += "\":";
  out += std::to_string(value);
}

std::string formatText(const Entry& entry) {
  std::string line;
  line.reserve(96 + entry.message.size());
  appendTimestamp(line, entry.time);
  line += ' ';
  const std::string_view level = levelName(entry.level);
  line += level;
  line.append(5 - std::min<size_t>(level.size(), 5), ' ');
  line += " [";
  appendTextEscaped(line, entry.component, false);
  line += "] ";
  appendTextEscaped(line, entry.message, false);
  const Context& context = entry.context;
  if (!context.cluster.empty()) appendTextField(line, "cluster", context.cluster);
  if (!context.group.empty()) appendTextField(line, "group", context.group);
  if (!context.topic.empty()) appendTextField(line, "topic", context.topic);
  if (context.partition >= 0) appendTextField(line, "partition", std::to_string(context.partition));
  if (context.broker >= 0) appendTextField(line, "broker", std::to_string(context.broker));
  if (!context.session.empty()) appendTextField(line, "session", context.session);
  line += '\n';
  return line;
}

std::string formatJson(const Entry& entry) {
  std::string line;
  line.reserve(128 + entry.message.size());
  line += "{\"time\":\"";
  appendTimestamp(line, entry.time);
  line += '"';
  appendJsonField(line, "level", levelName(entry.level));
  appendJsonField(line, "component", entry.component);
  appendJsonField(line, "message", entry.message);
  const Context& context = entry.context;
  if (!context.cluster.empty()) appendJsonField(line, "cluster", context.cluster);
  if (!context.group.empty()) appendJsonField(line, "group", context.group);
  if (!context.topic.empty()) appendJsonField(line, "topic", context.topic);
  if (context.partition >= 0) appendJsonNumber(line, "partition", context.partition);
  if (context.broker >= 0) appendJsonNumber(line, "broker", context.broker);
  if (!context.session.empty()) appendJsonField(line, "session", context.session);
  line += "}\n";
  return line;
}

}  // namespace

bool parseLevel(std::string_view text, Level& out) {
  for (Level l :
       {Level::kTrace, Level::kDebug, Level::kInfo, Level::kWarn, Level::kError, Level::kOff}) {
    if (text == levelName(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

std::string_view levelName(Level level) {
  switch (level) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "?";
}

bool parseFormat(std::string_view text, Format& out) {
  for (Format f : {Format::kText, Format::kJson}) {
    if (text == formatName(f)) {
      out = f;
      return true;
    }
  }
  return false;
}

std::string_view formatName(Format format) {
  return format == Format::kJson ? "json" : "text";
}

std::string formatEntry(const Entry& entry, Format format) {
  return format == Format::kJson ? formatJson(entry) : formatText(entry);
}

void setLevel(Level level) {
  g_level.store(level, std::memory_order_relaxed);
}

void setFormat(Format format) {
  g_format.store(format, std::memory_order_relaxed);
}

void setSink(Sink sink) {
  std::lock_guard lock(g_sink_mutex);
  g_sink = std::move(sink);
}

bool enabled(Level level) {
  return level != Level::kOff && level >= g_level.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view component, const Context& context,
           std::string_view message) {
  const Entry entry{std::chrono::system_clock::now(), level, component, context, message};
  {
    std::lock_guard lock(g_sink_mutex);
    if (g_sink) {
      g_sink(entry);
      return;
    }
  }
  // One fwrite per entry: stdio locks the stream for it, so lines never interleave.
  const std::string line = formatEntry(entry, g_format.load(std::memory_order_relaxed));
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace kafka::log
