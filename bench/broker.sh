#!/usr/bin/env bash
# Broker under load, side by side with the same upstream called directly and
# through a bare httputil.ReverseProxy (same run, alternating rounds):
# throughput at -conns and at 1 connection, p50/p99, the broker/proxy ratio
# and the latency added over direct; then RSS with 1,000 concurrent connections.
# Arguments go to bench/brokerload (-conns, -duration, -rounds, -rss-conns,
# -baseline PATH to measure an older broker build in the same rounds).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/sesame-broker" ./cmd/sesame-broker
go run ./bench/brokerload -broker "$bin/sesame-broker" "$@"
