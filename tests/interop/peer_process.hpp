// Interop-test support: runs a peer client (kcat, /usr/bin/python3 with kafka-python) to
// completion, feeding it stdin and collecting stdout and stderr.
//
// The child is killed (SIGKILL, by its pid) if it has not finished within the timeout, so a hung
// peer fails its test instead of hanging the suite. Blocking; call from the test thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace kafka::interop {

struct PeerRun {
  std::optional<int> exit_code;  // 128 + N if killed by signal N; nullopt if it timed out
  std::string out;
  std::string err;

  bool ok() const { return exit_code == 0; }
  // "exit 1: <stderr>" style text for assertion messages.
  std::string describe() const;
};

// Runs `argv` (argv[0] is looked up on PATH) with `input` on its stdin.
PeerRun runPeer(const std::vector<std::string>& argv, const std::string& input = {},
                std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace kafka::interop
