#!/usr/bin/env bash
# Installs what is missing, builds (Release) and starts the daemon in the foreground on an
# embedded test broker. Extra arguments go to kafka-sidecar, e.g. ./scripts/run.sh --log-level debug
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
BUILD_TYPE=Release ./scripts/build.sh --target kafka-sidecar ksctl mock-cluster
exec ./build/bin/kafka-sidecar --embedded-broker "$@"
