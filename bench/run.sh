#!/usr/bin/env bash
# sesame's performance figures, measured side by side in one run on this
# machine, printed as Markdown with the command behind each figure:
#
#   - `sesame token` with a valid cached token against the floor (one
#     go-keyring read and a print, bench/floor), and `sesame --help`:
#     the binaries copied first, hyperfine -N in ROUNDS (3) rounds of RUNS
#     (60) runs after WARMUP (10), the order of the commands reversed every
#     other round; the ratio is the median of the rounds' ratios of medians,
#     wall times are medians over all runs pooled; and the D-Bus
#     messages one run of each exchanges (bench/dbuscount/count.sh);
#   - the sizes of the sesame and sesame-broker binaries;
#   - login from callback to stored tokens (BenchmarkLoginAfterCallback);
#   - N concurrent `sesame token` when the token is due for a refresh, against
#     the local IdP with 6-second tokens: wall time and refresh grants;
#   - the broker under load (bench/broker.sh).
#
# Everything runs locally: the IdP is e2e/idp/server.js on 127.0.0.1, the
# keychain a private gnome-keyring (scripts/with-keyring), the browser
# headless chromium (e2e/browser/xdg-open). Nothing outside a temporary
# directory is written.
#
#   bench/run.sh                       # everything (about 2 minutes)
#   ROUNDS=3 RUNS=50 bench/run.sh      # fewer runs
#   SKIP_BROKER=1 bench/run.sh         # without the broker load test
#   BASELINE=HEAD bench/run.sh         # also measure sesame as of a git revision
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${SESAME_KEYRING_INNER:-}" ]; then
  bash scripts/setup
  if ! command -v hyperfine >/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "run.sh: installing hyperfine with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq hyperfine >/dev/null ||
      { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq hyperfine >/dev/null; }
  fi
  exec scripts/with-keyring "$0" "$@" # never touch the real keychain
fi
[ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH"

ROUNDS=${ROUNDS:-3}
RUNS=${RUNS:-60}
WARMUP=${WARMUP:-10}
LOGIN_RUNS=${LOGIN_RUNS:-200}
CONCURRENCY=${CONCURRENCY:-"10 50"}
BATCHES=${BATCHES:-3}
[ "$RUNS" -ge 50 ] || { echo "run.sh: RUNS must be at least 50" >&2; exit 2; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d)
bin="$work/bin"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
say() { printf 'run.sh: %s\n' "$*" >&2; }
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
export BROWSER="$PWD/e2e/browser/xdg-open" SESAME_E2E_BROWSER_LOG="$work/browser.log"

say "building with -trimpath ($(go version | cut -d' ' -f3))"
go build -trimpath -o "$bin/sesame" ./cmd/sesame
go build -trimpath -o "$bin/sesame-broker" ./cmd/sesame-broker
go build -trimpath -o "$bin/floor" ./bench/floor
go build -trimpath -o "$bin/concurrent" ./bench/concurrent
if [ -n "${BASELINE:-}" ]; then
  say "building sesame as of $BASELINE"
  mkdir "$work/baseline"
  git archive "$BASELINE" | tar -x -C "$work/baseline"
  (cd "$work/baseline" && go build -trimpath -o "$bin/sesame-baseline" ./cmd/sesame)
fi
# Measure copies, not the files the linker just wrote: every binary then
# starts from a file written the same way, in the same directory.
mkdir "$work/copied"
cp "$bin"/* "$work/copied/"
bin="$work/copied"
sesames=("$bin/sesame")
[ -n "${BASELINE:-}" ] && sesames+=("$bin/sesame-baseline")

# start_idp NAME ARGS...: a local IdP; its issuer ends up in $issuer.
start_idp() {
  local name=$1
  shift
  node e2e/idp/server.js "$@" >"$work/$name.ready" 2>"$work/$name.log" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$work/$name.ready" ] && break; sleep 0.1; done
  issuer=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).issuer' "$work/$name.ready")
}

start_idp idp
say "logging in (profile default) at $issuer"
"$bin/sesame" login --issuer "$issuer" --client-id sesame-cli 2>"$work/login.log" ||
  { cat "$work/login.log" "$SESAME_E2E_BROWSER_LOG" >&2; exit 1; }
token=$("$bin/sesame" token)
[ -n "$token" ] || { say "no cached token after login"; exit 1; }
"$bin/floor" >/dev/null || { say "the floor cannot read the keychain entry"; exit 1; }
# The floor reads sesame's own entry (service "sesame", user "default"),
# so the secret it reads is exactly as large as sesame's stored token set.
entry_bytes=$(($("$bin/floor" | wc -c) - 1))
dbus_tok=$(bash bench/dbuscount/count.sh "$bin/sesame" token)
dbus_floor=$(bash bench/dbuscount/count.sh "$bin/floor")
dbus_base=""
[ -n "${BASELINE:-}" ] && dbus_base=$(bash bench/dbuscount/count.sh "$bin/sesame-baseline" token)
[ "$("$bin/sesame" token)" = "$token" ] || { say "the cached token changed between two calls"; exit 1; }

# --- start-up: sesame token vs the floor, sesame --help ---------------------
say "hyperfine: $ROUNDS rounds of $RUNS runs (+$WARMUP warmup) per command"
cmds=("$bin/sesame token" "$bin/floor" "$bin/sesame --help")
[ -n "${BASELINE:-}" ] && cmds+=("$bin/sesame-baseline token")
reversed=()
for ((i = ${#cmds[@]} - 1; i >= 0; i--)); do reversed+=("${cmds[i]}"); done
for r in $(seq "$ROUNDS"); do
  if ((r % 2)); then order=("${cmds[@]}"); else order=("${reversed[@]}"); fi
  hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$work/hf$r.json" "${order[@]}" >"$work/hf$r.log" 2>&1 ||
    { say "hyperfine failed in round $r:"; tail -20 "$work/hf$r.log" >&2; exit 1; }
done
# Pool every run of every round; medians and a middle-50% spread, in ms.
node - "$work"/hf*.json >"$work/startup.tsv" <<'EOF'
const fs = require('fs');
const pool = {}, cpu = {};
for (const f of process.argv.slice(2)) {
  for (const r of JSON.parse(fs.readFileSync(f, 'utf8')).results) {
    (pool[r.command] ||= []).push(...r.times);
    (cpu[r.command] ||= []).push((r.user + r.system) * r.times.length);
  }
}
const q = (a, p) => { const s = [...a].sort((x, y) => x - y); const i = (s.length - 1) * p, lo = Math.floor(i);
  return (s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo)) * 1000; };
// command, runs, median, 25th and 75th percentile, mean user+system CPU time
for (const [cmd, t] of Object.entries(pool)) {
  const cpuMs = cpu[cmd].reduce((a, b) => a + b, 0) / t.length * 1000;
  console.log([cmd, t.length, q(t, 0.5), q(t, 0.25), q(t, 0.75), cpuMs].join('\t'));
}
EOF
# ratio_of A B: the median over the rounds of median(A) / median(B), then
# each round's ratio.
ratio_of() {
  node - "$1" "$2" "$work"/hf*.json <<'EOF'
const fs = require('fs');
const [a, b, ...files] = process.argv.slice(2);
const med = (t) => { const s = [...t].sort((x, y) => x - y), n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
const ratios = files.map((f) => {
  const r = Object.fromEntries(JSON.parse(fs.readFileSync(f, 'utf8')).results.map((x) => [x.command, x.times]));
  return med(r[a]) / med(r[b]);
});
console.log(med(ratios).toFixed(3) + '\t' + ratios.map((x) => x.toFixed(3)).join(' '));
EOF
}
field() { awk -F'\t' -v c="$1" -v f="$2" '$1 == c { print $f }' "$work/startup.tsv"; }
tok_med=$(field "$bin/sesame token" 3)
floor_med=$(field "$bin/floor" 3)
help_med=$(field "$bin/sesame --help" 3)
ratio_line=$(ratio_of "$bin/sesame token" "$bin/floor")
ratio=${ratio_line%%$'\t'*}
ratio_rounds=${ratio_line#*$'\t'}
verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 0.90 ? "met" : "NOT met") }')
spread() { printf '%.2f–%.2f' "$(field "$1" 4)" "$(field "$1" 5)"; }
cputime() { printf '%.2f' "$(field "$1" 6)"; }
baseline_rows=""
if [ -n "${BASELINE:-}" ]; then
  base_med=$(field "$bin/sesame-baseline token" 3)
  baseline_rows="| \`sesame token\` as of $BASELINE (before the changes) | $(printf '%.2f' "$base_med") ms | $(spread "$bin/sesame-baseline token") ms | $(cputime "$bin/sesame-baseline token") ms | same rounds (\`BASELINE=$BASELINE\`) |"$'\n'
  base_line=$(ratio_of "$bin/sesame-baseline token" "$bin/floor")
  baseline_rows+="| ratio, as of $BASELINE / floor (median of rounds) | ${base_line%%$'\t'*}× (rounds: ${base_line#*$'\t'}) | | | D-Bus messages: $dbus_base |"$'\n'
fi
runs_total=$(field "$bin/floor" 2)

# --- login after the callback ----------------------------------------------
say "go test -bench LoginAfterCallback"
go test ./bench -run '^$' -bench LoginAfterCallback -benchtime "${LOGIN_RUNS}x" -count 1 >"$work/login-bench.txt"
say "go test -bench TokenCached"
go test ./bench -run '^$' -bench TokenCached -benchmem -count 1 >"$work/token-bench.txt"

# --- N concurrent `sesame token` at expiry -----------------------------------
events="$work/events.jsonl"
: >"$events"
start_idp short --access-token-ttl 6 --events "$events"
say "logging in (profile short, 6 s tokens) at $issuer"
"$bin/sesame" login --profile short --issuer "$issuer" --client-id sesame-cli 2>"$work/login-short.log" ||
  { cat "$work/login-short.log" >&2; exit 1; }
refreshes() { grep '"grant.success"' "$events" | grep -c '"grant_type":"refresh_token"' || true; }
conc_rows=""
for s in "${sesames[@]}"; do
  for n in $CONCURRENCY; do
    walls=() grants=() failed=0 distinct=() renewed=0
    for _ in $(seq "$BATCHES"); do
      before_tok=$("$s" token --profile short)
      # The token was obtained at most now: 3.5 s on, it is within the
      # default --min-ttl (60 s capped at half of its 6 s lifetime) and
      # still valid.
      sleep 3.5
      before=$(refreshes)
      out=$("$bin/concurrent" -n "$n" -- "$s" token --profile short) || true
      grants+=($(($(refreshes) - before)))
      walls+=("$(node -p 'JSON.parse(process.argv[1]).wall_ms' "$out")")
      failed=$((failed + $(node -p 'JSON.parse(process.argv[1]).failed' "$out")))
      distinct+=("$(node -p 'JSON.parse(process.argv[1]).distinct_outputs' "$out")")
      [ "$("$s" token --profile short)" != "$before_tok" ] && renewed=$((renewed + 1))
    done
    wall=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{ w[NR] = $1 } END { printf "%.0f ms (%.0f–%.0f)", w[int((NR + 1) / 2)], w[1], w[NR] }')
    conc_rows+="| $(basename "$s") | $n | $wall | ${grants[*]} | $failed | ${distinct[*]} | $renewed of $BATCHES |"$'\n'
  done
done

# --- broker -------------------------------------------------------------------
if [ -z "${SKIP_BROKER:-}" ]; then
  say "bench/broker.sh"
  bash bench/broker.sh >"$work/broker.md" 2>"$work/broker.log" || { cat "$work/broker.log" >&2; exit 1; }
fi

# --- report -------------------------------------------------------------------
size() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f MiB (%d bytes)", b / 1048576, b }'; }
model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
hf="hyperfine -N --warmup $WARMUP --runs $RUNS"

cat <<EOF
## sesame performance — $(date -u +%Y-%m-%dT%H:%MZ)

$(go version | cut -d' ' -f3), $(nproc) × ${model:-unknown CPU}, $(uname -sr); load average at the start: $load_start, at the end: $(cut -d' ' -f1-3 /proc/loadavg).
Binaries: \`go build -trimpath -o BIN/NAME ./cmd/NAME\` (floor: \`./bench/floor\`, CGO_ENABLED=$(go env CGO_ENABLED)). Reproduce everything: \`bench/run.sh\`.

### Start-up (valid cached token; ${runs_total} runs per command: $ROUNDS rounds × $RUNS, order reversed every other round)

| measure | median wall time | middle 50% | CPU (user+sys, mean) | command |
|---|---|---|---|---|
| \`sesame token\` | $(printf '%.2f' "$tok_med") ms | $(spread "$bin/sesame token") ms | $(cputime "$bin/sesame token") ms | \`$hf 'BIN/sesame token' BIN/floor 'BIN/sesame --help'\` |
| floor: go-keyring read + print | $(printf '%.2f' "$floor_med") ms | $(spread "$bin/floor") ms | $(cputime "$bin/floor") ms | (same) |
| **ratio \`sesame token\` / floor, median of the rounds' ratios** | **${ratio}×** (target ≤ 0.90×: $verdict; rounds: $ratio_rounds) | | | |
| D-Bus messages, one run | \`sesame token\`: $dbus_tok; floor: $dbus_floor | | | \`bench/dbuscount/count.sh BIN/NAME ...\` |
| size of the stored entry (= the floor's secret) | $entry_bytes bytes | | | |
$baseline_rows| \`sesame --help\` | $(printf '%.2f' "$help_med") ms | $(spread "$bin/sesame --help") ms | $(cputime "$bin/sesame --help") ms | (same) |
| size of sesame | $(size "$bin/sesame") | | | \`stat -c %s BIN/sesame\` |
| size of sesame-broker | $(size "$bin/sesame-broker") | | | \`stat -c %s BIN/sesame-broker\` |
| \`sesame token\` in process, keychain in memory | $(awk '/^BenchmarkTokenCached/ { printf "%.1f µs/op, %s B/op, %s allocs/op", $3 / 1000, $5, $7 }' "$work/token-bench.txt") | | | \`go test ./bench -run '^\$' -bench TokenCached -benchmem\` |

### Login: callback received → tokens stored (in-process IdP, in-memory keychain)

Exchange includes the IdP's own work (signing the ID token); verification includes the JWKS fetch.
\`go test ./bench -run '^\$' -bench LoginAfterCallback -benchtime ${LOGIN_RUNS}x\`

| ID token alg | exchange + verification + store | exchange | verification | store (SaveLogin) |
|---|---|---|---|---|
$(awk '/^BenchmarkLoginAfterCallback\// {
  split($1, a, "/"); sub(/-[0-9]+$/, "", a[2]);
  for (i = 3; i < NF; i += 2) m[$(i + 1)] = $i;
  printf "| %s | %.0f µs | %.0f µs | %.0f µs | %.0f µs |\n", a[2], m["ns/op"] / 1000, m["exchange-ns/op"] / 1000, m["verify-ns/op"] / 1000, m["store-ns/op"] / 1000
}' "$work/login-bench.txt")

### N concurrent \`sesame token\` at expiry (real IdP, 6 s access tokens, default --min-ttl)

\`node e2e/idp/server.js --access-token-ttl 6 --events FILE\`; $BATCHES batches per N, each 3.5 s after the previous refresh:
\`BIN/concurrent -n N -- BIN/sesame token --profile short\`. Refresh grants: \`grant.success\` lines with \`"grant_type":"refresh_token"\` in FILE, per batch.

| binary | N | wall time for all N: median (min–max) | refresh grants per batch | failed processes | distinct tokens per batch | token renewed |
|---|---|---|---|---|---|---|
${conc_rows%$'\n'}
EOF
if [ -z "${SKIP_BROKER:-}" ]; then
  cat <<EOF

### Broker (\`bench/broker.sh\`)

$(cat "$work/broker.md")
EOF
fi
