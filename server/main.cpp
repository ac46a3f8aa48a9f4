// kafka-sidecar: reads its settings (flags, KAFKA_SIDECAR_* variables, the --config file) and
// runs the Daemon until SIGTERM or SIGINT. Exit codes: 0 after the drain that the signal starts,
// 1 when start-up fails, 2 for a bad setting, and 128 + N when a second signal N cuts the drain
// short (the Daemon exits then).
#include <exception>
#include <iostream>

#include "client_core/common/log.hpp"
#include "server/config.hpp"
#include "server/daemon.hpp"

int main(int argc, char** argv) {
  using kafka::sidecar::ParsedArgs;
  ParsedArgs parsed = kafka::sidecar::parseArgs(argc, argv);
  switch (parsed.action) {
    case ParsedArgs::Action::kHelp:
      std::cout << kafka::sidecar::usageText();
      return 0;
    case ParsedArgs::Action::kVersion:
      std::cout << kafka::sidecar::versionText() << "\n";
      return 0;
    case ParsedArgs::Action::kError:
      std::cerr << "kafka-sidecar: " << parsed.error
                << "\nTry 'kafka-sidecar --help' for the list of settings.\n";
      return 2;
    case ParsedArgs::Action::kRun:
      break;
  }

  kafka::log::setLevel(parsed.config.log_level);
  kafka::log::setFormat(parsed.config.log_format);
  if (!parsed.config_file.empty()) {
    KS_LOG(kInfo, "daemon", "settings from " << parsed.config_file << " (flags and variables win)");
  }
  try {
    kafka::sidecar::Daemon daemon(std::move(parsed.config));
    daemon.start();
    daemon.wait();
  } catch (const std::exception& error) {
    KS_LOG(kError, "daemon", "cannot start: " << error.what());
    return 1;
  }
  return 0;
}
