#!/usr/bin/env bash
# Broker under load: throughput, p50/p99 added latency vs the same upstream
# called directly (same run), and RSS with 1,000 concurrent connections.
# Arguments go to bench/brokerload (-conns, -duration, -rss-conns).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/sesame-broker" ./cmd/sesame-broker
go run ./bench/brokerload -broker "$bin/sesame-broker" "$@"
