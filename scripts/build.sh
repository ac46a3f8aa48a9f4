#!/usr/bin/env bash
# Configures and builds kafka-sidecar into build/ (or $BUILD_DIR). Used by run.sh and test.sh.
#   BUILD_TYPE   CMake build type (default Release)
#   BUILD_DIR    build directory (default build)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_TYPE=${BUILD_TYPE:-Release}
BUILD_DIR=${BUILD_DIR:-build}
GENERATOR=()
command -v ninja >/dev/null && GENERATOR=(-G Ninja)

if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  cmake -S . -B "$BUILD_DIR" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE="$BUILD_TYPE"
else
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" >/dev/null
fi
cmake --build "$BUILD_DIR" --parallel "$(nproc)" "$@"
