#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs the whole test suite through ctest.
# Exits non-zero on any failure. Extra arguments go to ctest, e.g. ./scripts/test.sh -R Cluster
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
BUILD_TYPE=${BUILD_TYPE:-Release} ./scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 600 --parallel "$(nproc)" "$@"
