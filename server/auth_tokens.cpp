#include "server/auth_tokens.hpp"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

namespace kafka::sidecar {
namespace {

// Shorter tokens can be guessed; generated ones (openssl rand -hex 32) are far longer.
constexpr size_t kMinTokenLength = 16;

bool isTopicChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
}

bool isVisible(char c) {
  return c > ' ' && c < 0x7f;
}

std::optional<TokenDigest> parseHexDigest(std::string_view hex) {
  TokenDigest out{};
  if (hex.size() != out.size() * 2) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < out.size(); ++i) {
    int high = nibble(hex[2 * i]);
    int low = nibble(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out[i] = static_cast<unsigned char>(high * 16 + low);
  }
  return out;
}

// Reads one tokens file; every message names the file and line, and never a token's value.
class TokenFileParser {
 public:
  TokenFileParser(std::string file, std::vector<TokenGrant>& out)
      : file_(std::move(file)), out_(out) {}

  std::string parse(std::string_view text) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& error) {
      return "malformed YAML in " + where(error.mark) + ": " + error.msg;
    }
    if (!root.IsMap()) return file_ + ": expected a map with the key 'tokens'";
    for (const auto& entry : root) {
      if (!entry.first.IsScalar() || entry.first.Scalar() != "tokens") {
        return where(entry.first.Mark()) + ": unknown key" + keyName(entry.first) +
               "; the file holds only 'tokens'";
      }
    }
    // yaml-cpp throws on every use of an absent key's node but IsDefined().
    const YAML::Node tokens = root["tokens"];
    if (!tokens.IsDefined() || !tokens.IsSequence() || tokens.size() == 0) {
      return (tokens.IsDefined() ? where(tokens.Mark()) : file_) +
             ": 'tokens' must be a list of at least one token (name, token or token_sha256, "
             "produce, consume, groups, admin)";
    }
    out_.clear();
    size_t index = 0;
    for (const YAML::Node& entry : tokens) {
      if (std::string error = parseEntry(entry, ++index); !error.empty()) return error;
    }
    return {};
  }

 private:
  std::string where(const YAML::Mark& mark) const {
    if (mark.is_null()) return file_;
    return file_ + ":" + std::to_string(mark.line + 1);
  }

  static std::string keyName(const YAML::Node& key) {
    return key.IsScalar() ? " '" + key.Scalar() + "'" : "";
  }

  std::string parseEntry(const YAML::Node& entry, size_t index) {
    std::string what = "token entry " + std::to_string(index);
    if (!entry.IsMap()) return where(entry.Mark()) + ": " + what + ": expected a map";
    TokenGrant grant;
    const YAML::Node name = entry["name"];
    if (!name.IsDefined() || !name.IsScalar() || name.Scalar().empty() ||
        !std::all_of(name.Scalar().begin(), name.Scalar().end(), isVisible)) {
      return where(entry.Mark()) + ": " + what +
             ": 'name' is required: printable characters without spaces";
    }
    grant.name = name.Scalar();
    what = "token '" + grant.name + "' (entry " + std::to_string(index) + ")";
    static const std::set<std::string, std::less<>> kKeys = {
        "name", "token", "token_sha256", "produce", "consume", "groups", "admin"};
    for (const auto& field : entry) {
      if (!field.first.IsScalar() || !kKeys.contains(field.first.Scalar())) {
        return where(field.first.Mark()) + ": " + what + ": unknown key" + keyName(field.first) +
               " (keys: name, token, token_sha256, produce, consume, groups, admin)";
      }
    }
    if (!names_.insert(grant.name).second) {
      return where(name.Mark()) + ": " + what + ": another entry has the same name";
    }

    const YAML::Node token = entry["token"];
    const YAML::Node hashed = entry["token_sha256"];
    if (token.IsDefined() == hashed.IsDefined()) {
      return where(entry.Mark()) + ": " + what + ": give exactly one of 'token' and 'token_sha256'";
    }
    if (token.IsDefined()) {
      const bool usable = token.IsScalar() && token.Scalar().size() >= kMinTokenLength &&
                          std::all_of(token.Scalar().begin(), token.Scalar().end(), isVisible);
      if (!usable) {
        return where(token.Mark()) + ": " + what + ": 'token' must be at least " +
               std::to_string(kMinTokenLength) +
               " printable characters without spaces (it travels in an HTTP header)";
      }
      grant.digest = sha256Of(token.Scalar());
    } else {
      auto digest = hashed.IsScalar() ? parseHexDigest(hashed.Scalar()) : std::nullopt;
      if (!digest) {
        return where(hashed.Mark()) + ": " + what +
               ": 'token_sha256' must be 64 hex digits (e.g. from `printf %s TOKEN | sha256sum`)";
      }
      grant.digest = *digest;
    }
    auto [earlier, first] = by_digest_.emplace(grant.digest, grant.name);
    if (!first) {
      return where(entry.Mark()) + ": " + what + ": the same token as '" + earlier->second +
             "'; every token must be different";
    }

    for (auto [key, patterns, topics] :
         {std::tuple{"produce", &grant.produce, true}, std::tuple{"consume", &grant.consume, true},
          std::tuple{"groups", &grant.groups, false}}) {
      if (std::string error = parsePatterns(entry[key], key, topics, what, *patterns);
          !error.empty()) {
        return error;
      }
    }
    const YAML::Node admin = entry["admin"];
    if (admin.IsDefined()) {
      if (!admin.IsScalar() || (admin.Scalar() != "true" && admin.Scalar() != "false")) {
        return where(admin.Mark()) + ": " + what + ": 'admin' must be true or false";
      }
      grant.admin = admin.Scalar() == "true";
    }
    out_.push_back(std::move(grant));
    return {};
  }

  // A pattern list: absent (nothing), one string, or a list of strings.
  std::string parsePatterns(const YAML::Node& node, std::string_view key, bool topics,
                            const std::string& what, NamePatterns& out) {
    if (!node.IsDefined() || node.IsNull()) return {};
    std::string at = where(node.Mark()) + ": " + what + ": " + std::string(key);
    std::vector<std::string> patterns;
    if (node.IsScalar()) {
      patterns.push_back(node.Scalar());
    } else if (node.IsSequence()) {
      for (const YAML::Node& item : node) {
        if (!item.IsScalar()) return at + ": expected a list of names";
        patterns.push_back(item.Scalar());
      }
    } else {
      return at + ": expected a name or a list of names";
    }
    for (const std::string& pattern : patterns) {
      const std::string_view stem = std::string_view(pattern).substr(
          0, pattern.ends_with('*') ? pattern.size() - 1 : pattern.size());
      if (pattern.empty()) return at + ": an empty name";
      if (stem.find('*') != std::string_view::npos) {
        return at + ": '" + pattern + "': '*' may only end a pattern (a prefix)";
      }
      const bool valid = topics ? std::all_of(stem.begin(), stem.end(), isTopicChar)
                                : std::all_of(stem.begin(), stem.end(), [](char c) {
                                    return std::isprint(static_cast<unsigned char>(c)) != 0;
                                  });
      if (!valid) {
        return at + ": '" + pattern + "': " +
               (topics ? "topic names have letters, digits, '.', '_' and '-' only"
                       : "group ids here must be printable");
      }
    }
    out = NamePatterns(std::move(patterns));
    return {};
  }

  std::string file_;
  std::vector<TokenGrant>& out_;
  std::set<std::string, std::less<>> names_;
  std::map<TokenDigest, std::string> by_digest_;
};

}  // namespace

bool NamePatterns::matches(std::string_view name) const {
  return std::any_of(patterns_.begin(), patterns_.end(), [name](const std::string& pattern) {
    if (pattern.ends_with('*')) {
      return name.starts_with(std::string_view(pattern).substr(0, pattern.size() - 1));
    }
    return name == pattern;
  });
}

bool NamePatterns::matchesAll() const {
  return std::find(patterns_.begin(), patterns_.end(), "*") != patterns_.end();
}

TokenDigest sha256Of(std::string_view text) {
  TokenDigest out{};
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), out.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != out.size()) {
    throw std::runtime_error("SHA-256 failed");
  }
  return out;
}

std::string parseTokenFile(std::string_view text, const std::string& file,
                           std::vector<TokenGrant>& out) {
  return TokenFileParser(file, out).parse(text);
}

std::string readTokenFile(const std::string& path, std::string& text) {
  const std::string cannot_read = "cannot read the tokens file '" + path + "'";
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) return cannot_read + ": it is a directory";
  std::ifstream in(path, std::ios::binary);
  if (!in) return cannot_read + ": " + std::strerror(errno);
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return cannot_read + ": " + std::strerror(errno);
  text = contents.str();
  return {};
}

std::string loadTokenFile(const std::string& path, std::vector<TokenGrant>& out) {
  std::string text;
  if (std::string error = readTokenFile(path, text); !error.empty()) return error;
  return parseTokenFile(text, path, out);
}

}  // namespace kafka::sidecar
