#!/usr/bin/env bash
# Measures the media engine's memory per guardian (issue #2: steady state
# <= 256 KiB per guardian), engine only: for each guardian count N a fresh
# `engine run --role media` (1 shard) and `engine run --role gatekeeper`
# start, `engine bench --target` streams N guardians through them, and the
# media process's RSS is read from /proc before the bench (idle) and while
# the guardians stream (steady). The shard's fixed allocations (the 8 MiB
# receive ring is zeroed at start, io_uring buffers, histograms) are in the
# idle figure, so (steady - idle) / N is what a guardian costs, plus a share
# of one-time costs (code pages of libopus paged in by the first call, which
# PSS and private memory leave out); the "marginal" column leaves them out
# too. A fresh process per N keeps heap freed by a previous run from hiding
# the next run's growth. docs/performance.md, "Engine memory per guardian".
#
# Usage: scripts/measure-memory.sh [N ...]          (default: 12 60 120 240)
# Environment: MEMORY_DURATION (10 s), MEMORY_WARMUP (2 s), MEMORY_SAMPLE_AT
# (seconds into the measured window, default 5), MEMORY_PORT_FIRST (24000),
# MEMORY_OUT (directory to keep logs, samples and bench JSON in).
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1

counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(12 60 120 240)
duration=${MEMORY_DURATION:-10}
warmup=${MEMORY_WARMUP:-2}
sample_at=${MEMORY_SAMPLE_AT:-5}
port_first=${MEMORY_PORT_FIRST:-24000}
for n in "${counts[@]}"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "guardian count must be a positive integer: $n" >&2; exit 2; }
  # Rooms of 12 (the bench's default above 25 guardians), 64 rooms a shard.
  [ "$n" -le 768 ] || { echo "$n guardians do not fit one shard's 64 rooms of 12" >&2; exit 2; }
done

# shellcheck source=scripts/deps.sh
. scripts/deps.sh
ensure_debian_packages "${BUILD_PACKAGES[@]}" curl
echo "building engine-cli (release)..." >&2
cargo build --release --quiet -p engine-cli
engine="${CARGO_TARGET_DIR:-target}/release/engine"
[ -x "$engine" ] || { echo "no binary at $engine" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/measure-memory.XXXXXX")
out=${MEMORY_OUT:-$work/out}
mkdir -p "$out"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The word after $2 in the log $1, waiting up to 20 s (the daemon's pid $3
# must stay alive meanwhile).
word_after() {
  local log=$1 needle=$2 pid=$3 i word
  for ((i = 0; i < 200; i++)); do
    word=$(sed -n "s/.*${needle}\([^ ]*\).*/\1/p" "$log" | head -n 1)
    [ -n "$word" ] && { echo "$word"; return 0; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "no '${needle}' line from pid $pid; its log:" >&2
  cat "$log" >&2
  return 1
}

# "RSS_KiB PSS_KiB PRIVATE_KiB" of a process (PSS and private: "-" when
# smaps_rollup is not available).
memory_of() {
  local pid=$1 rss pss private
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
  if [ -r "/proc/$pid/smaps_rollup" ]; then
    pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
    private=$(awk '/^Private_(Clean|Dirty):/ {s += $2} END {print s}' "/proc/$pid/smaps_rollup")
  else
    pss=-
    private=-
  fi
  echo "$rss ${pss:--} ${private:--}"
}

# Guardian keys and their registry, enough for the largest N.
max=0
for n in "${counts[@]}"; do if [ "$n" -gt "$max" ]; then max=$n; fi; done
mkdir -p "$work/keys"
echo "guardians:" >"$work/registry.yaml"
for ((i = 0; i < max; i++)); do
  "$engine" keygen --id "if://guardian/memory-$i" --key-out "$work/keys/g$i.key" 2>/dev/null |
    grep -v '^#' >>"$work/registry.yaml"
done

# Defaults except one unpinned shard (a shared machine) and the port range.
cat >"$work/engine.toml" <<EOF
[shards]
count = 1
pin = false
[media]
port_first = $port_first
EOF
# The bench's verdicts do not matter here (this machine may be busy), only a
# run that could not stream does: every SLO check is made loose.
cat >"$work/slo.toml" <<'EOF'
[latency]
avg_ms_max = 10000.0
p95_ms_max = 10000.0
[jitter]
avg_ms_max = 10000.0
p95_ms_max = 10000.0
[loss]
pct_max = 100.0
[admission]
per_guardian_ms_max = 60000.0
[calls]
success_pct_min = 0.0
drops_max = 1000000
[cpu]
engine_pct_max = 100.0
EOF

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# Every step below is bounded: the daemons stop by themselves after
# $backstop seconds, the bench after its duration plus admission.
backstop=$((60 + 2 * (duration + warmup)))
rows=()
for n in "${counts[@]}"; do
  log_media="$out/media-$n.log"
  log_gk="$out/gatekeeper-$n.log"
  : >"$log_media"
  : >"$log_gk"
  "$engine" run --role media --config "$work/engine.toml" \
    --control-listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 \
    --stats-secs 0 --exit-after-secs "$backstop" 2>"$log_media" &
  media=$!
  pids+=("$media")
  control=$(word_after "$log_media" "media-link: control on " "$media")
  metrics=$(word_after "$log_media" "metrics: serving " "$media")
  "$engine" run --role gatekeeper --registry "$work/registry.yaml" \
    --ras-listen 127.0.0.1:0 --engine "$control" --metrics-listen 127.0.0.1:0 \
    --stats-secs 0 --exit-after-secs "$backstop" 2>"$log_gk" &
  gatekeeper=$!
  pids+=("$gatekeeper")
  ras=$(word_after "$log_gk" "gatekeeper: RAS on " "$gatekeeper")
  sleep 2
  kill -0 "$media" 2>/dev/null || { echo "the media engine exited; its log:" >&2; cat "$log_media" >&2; exit 1; }
  read -r idle_rss idle_pss idle_private < <(memory_of "$media")

  "$engine" bench --target "$ras" --target-control "$control" --keys "$work/keys" \
    --guardians "$n" --duration "$duration" --warmup "$warmup" \
    --slo "$work/slo.toml" --json "$out/bench-$n.json" >"$out/bench-$n.log" 2>&1 &
  bench=$!
  pids+=("$bench")
  # One sample a second while the bench runs: seconds since it started,
  # RSS, PSS, private (KiB), and the participants the engine's /metrics
  # reports (refreshed every second).
  samples="$out/samples-$n.txt"
  : >"$samples"
  started=$SECONDS
  while kill -0 "$bench" 2>/dev/null; do
    up=$(curl -s --max-time 1 "$metrics" | awk '/^h323_mcu_active_participants / {print $2}' || true)
    echo "$((SECONDS - started)) $(memory_of "$media") ${up:-0}" >>"$samples"
    [ $((SECONDS - started)) -lt $((backstop - 10)) ] || { echo "bench for $n guardians did not end" >&2; exit 1; }
    sleep 1
  done
  if ! wait "$bench"; then
    echo "engine bench --guardians $n failed; its output:" >&2
    cat "$out/bench-$n.log" >&2
    exit 1
  fi
  # Steady state: once the engine holds all N participants, the bench's
  # warm-up plus $sample_at s into its measured window.
  steady_rss=""
  read -r steady_rss steady_pss steady_private < <(awk -v n="$n" -v later=$((warmup + sample_at)) '
    !up && $5 == n { up = $1 }
    up && $1 >= up + later { print $2, $3, $4; exit }' "$samples") || true
  if [ -z "$steady_rss" ]; then
    echo "the engine never held $n participants for $((warmup + sample_at)) s (samples in $samples)" >&2
    exit 1
  fi
  # The bench's own figure: the engine's RSS growth since its control port
  # opened, per participant, read over the media link at the end of the
  # measured window ("engine_memory" in the JSON).
  from_json=$(sed -n 's/.*"kib_per_participant": \([0-9.]*\).*/\1/p' "$out/bench-$n.json" | head -n 1)
  rows+=("$n $idle_rss $steady_rss $idle_pss $steady_pss $idle_private $steady_private ${from_json:--}")

  kill "$gatekeeper" "$media" 2>/dev/null || true
  wait "$gatekeeper" 2>/dev/null || true
  wait "$media" 2>/dev/null || true
  pids=()
done

echo "engine memory per guardian: 1 shard, --duration $duration --warmup $warmup," \
  "sampled $((warmup + sample_at)) s after all were admitted, $(date -u '+%Y-%m-%d %H:%M UTC')," \
  "load average $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after"
# Per guardian: (steady - idle) / N. Marginal: how much more (steady - idle)
# grew than at the previous (smaller) N, per added guardian, which leaves out one-time
# costs of the first participant (thread arenas, first encoder scratch).
printf '%-9s %-12s %-14s %-15s %-13s %-15s %-16s %s\n' guardians "RSS idle MiB" "RSS steady MiB" \
  "RSS KiB/guard." "marginal KiB" "PSS KiB/guard." "priv. KiB/guard." "bench JSON KiB/guard."
printf '%s\n' "${rows[@]}" | sort -n | awk '{
  pss = ($4 == "-" || $5 == "-") ? "-" : sprintf("%.1f", ($5 - $4) / $1)
  prv = ($6 == "-" || $7 == "-") ? "-" : sprintf("%.1f", ($7 - $6) / $1)
  marginal = (NR == 1 || $1 == n_prev) ? "-" : sprintf("%.1f", ($3 - $2 - grown_prev) / ($1 - n_prev))
  json = ($8 == "-") ? "-" : sprintf("%.1f", $8)
  printf "%-9d %-12.1f %-14.1f %-15.1f %-13s %-15s %-16s %s\n", $1, $2 / 1024, $3 / 1024, ($3 - $2) / $1, marginal, pss, prv, json
  n_prev = $1; grown_prev = $3 - $2
}'
if [ -n "${MEMORY_OUT:-}" ]; then
  echo "logs, samples (seconds, RSS, PSS, private KiB, participants) and bench JSON in $out"
fi
