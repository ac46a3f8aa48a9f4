#!/usr/bin/env bash
# Installs every Debian 12 package that building, running and testing kafka-sidecar needs.
# Idempotent: it asks apt only for packages that are missing. Needs root (or sudo).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git curl
  # runtime and build dependencies
  libboost1.81-dev
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  zlib1g-dev liblz4-dev libsnappy-dev libzstd-dev
  prometheus-cpp-dev
  libyaml-cpp-dev
  libgtest-dev libgmock-dev
  # the test broker (librdkafka's mock cluster) and the benchmark baseline
  librdkafka-dev
  # peer clients that prove interop
  kcat python3 python3-kafka python3-confluent-kafka python3-grpcio
  python3-lz4 python3-snappy python3-zstandard python3-xxhash
  # libFuzzer
  clang-14 libclang-rt-14-dev
  # tests/deploy: Go (offline, GOPATH mode) renders the Helm chart and validates its values
  # against values.schema.json; yamllint lints the manifests
  golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v2-dev
  golang-github-xeipuuv-gojsonschema-dev yamllint
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
