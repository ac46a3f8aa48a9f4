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
  # TLS on the HTTP listener (Boost.Asio's ssl); the openssl CLI makes the tests' certificates
  libssl-dev openssl
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
  # examples/: Go's gRPC and protobuf with their protoc plugins, jq for the curl example
  golang-google-grpc-dev golang-google-protobuf-dev protoc-gen-go protoc-gen-go-grpc jq
  # grpc-go marshals through github.com/golang/protobuf: 1.5 knows the messages of protoc-gen-go
  # (APIv2); 1.3, which apt would pick otherwise, panics on them
  golang-github-golang-protobuf-1-5-dev
)
# examples/node needs Node.js 18 or newer with npm. A node and npm already on PATH (such as
# NodeSource's nodejs, which bundles npm and conflicts with Debian's npm package) are used as
# they are; otherwise Debian 12's nodejs (18) and npm (9) are installed.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

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
