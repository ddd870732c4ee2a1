#!/usr/bin/env bash
# Verifier service load test (see bench/README.md, section "Verifier service").
#
#   bench/verifier-load.sh            # builds with `cargo build --release` first
#   NO_BUILD=1 bench/verifier-load.sh # reuse target/release/huren
#   HUREN=/tmp/huren-before NO_BUILD=1 bench/verifier-load.sh   # another binary (before/after)
#
# 1. starts `huren demo --dir <tmp> --port 0` pinned to CPU $SERVER_CPU (the demo process holds
#    the verifier and the three issuers; only the verifier is loaded);
# 2. issues $TOKENS Zhejiang (ES256) licences through the issuer API
#    (POST /v1/licences/batch, admin token from demo.json), keeping their HR1 QR texts;
# 3. warms the verifier (one verification: trust list parsed, status list fetched and cached)
#    and checks a sample of tokens verify as "valid";
# 4. max throughput: wrk (pinned to CPU $LOAD_CPU) POSTs /v1/verify (text/plain qr_text),
#    cycling through the distinct tokens, $CONNS connections, $DURATION; the server's CPU time
#    over the run is read from /proc/<demo pid>/stat (utime + stime, all threads) before and
#    after, so the run also gives answers per server CPU-second;
# 5. latency: oha at a fixed rate of half the measured maximum (-q, --latency-correction,
#    bodies line by line from the token file), $DURATION; p50/p99/p99.9;
# 6. single-core raw ES256 verify rate in the same run: the crypto bench's
#    raw_verify/ES256_aws-lc-rs_parsed and raw_verify/ES256_huren_PublicKey rows, pinned to
#    CPU $SERVER_CPU (criterion medians);
# 7. prints a summary — the headline is answers per server CPU-second relative to the raw
#    single-core ES256 rate of the same run (issue 11: target >= 0.70), then wall-clock
#    throughput against raw (target >= 90 %) and p99 at half load (target <= 10 ms) — and
#    leaves everything in $OUT.
#
# Needs: wrk (apt-get install -y wrk), jq, curl, taskset; oha (cargo install oha) for the
# latency phase, which is skipped (and reported as not run) when oha is missing or
# NO_LATENCY=1.
# Only loopback traffic; every load phase is bounded by $DURATION; the demo process started
# here is stopped at exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-15s}
TOKENS=${TOKENS:-2000}
CONNS=${CONNS:-32}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
WORK=$(mktemp -d /tmp/huren-verifier-load.XXXXXX)
OUT=${OUT:-$WORK}
mkdir -p "$OUT"

for tool in wrk jq curl taskset; do
    command -v "$tool" >/dev/null || { echo "missing $tool (wrk: apt-get install -y wrk)" >&2; exit 2; }
done
LATENCY=1
if [[ "${NO_LATENCY:-0}" == 1 ]]; then
    LATENCY=0
elif ! command -v oha >/dev/null; then
    echo "oha not found (cargo install oha): the latency phase is skipped" >&2
    LATENCY=0
fi

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

if [[ "${NO_BUILD:-0}" != 1 ]]; then
    log "cargo build --release"
    (cd "$ROOT" && cargo build --release --bin huren)
fi
HUREN=${HUREN:-$ROOT/target/release/huren}

DEMO_PID=""
cleanup() {
    if [[ -n "$DEMO_PID" ]] && kill -0 "$DEMO_PID" 2>/dev/null; then
        kill "$DEMO_PID" 2>/dev/null || true
        wait "$DEMO_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT

log "starting huren demo on CPU $SERVER_CPU in $WORK/demo (log: $OUT/demo.log)"
taskset -c "$SERVER_CPU" "$HUREN" demo --dir "$WORK/demo" --port 0 >"$OUT/demo.log" 2>&1 &
DEMO_PID=$!
for _ in $(seq 1 240); do
    [[ -s "$WORK/demo/demo.json" ]] && break
    kill -0 "$DEMO_PID" 2>/dev/null || { cat "$OUT/demo.log" >&2; exit 1; }
    sleep 0.5
done
[[ -s "$WORK/demo/demo.json" ]] || { echo "demo did not start in 120 s" >&2; exit 1; }
MANIFEST="$WORK/demo/demo.json"
VERIFIER=$(jq -r .verifier_url "$MANIFEST")
ISSUER=$(jq -r '.issuers[] | select(.region == "330000") | .url' "$MANIFEST")
ADMIN=$(jq -r '.issuers[] | select(.region == "330000") | .admin_token' "$MANIFEST")
log "verifier $VERIFIER, Zhejiang issuer $ISSUER"

# ---- distinct ES256 tokens through the issuer API
TOKEN_FILE="$OUT/tokens.txt"
: >"$TOKEN_FILE"
issued=0
while ((issued < TOKENS)); do
    n=$((TOKENS - issued > 1000 ? 1000 : TOKENS - issued))
    jq -n --argjson from "$issued" --argjson n "$n" '[range($from; $from + $n) | {
        type_code: "11100000000013338W032",
        number: ("D23" + (. + 1000000 | tostring)),
        holder: {name: ("示例建设有限公司" + (. | tostring) + "号"), id_type: "001", id: "91350100M000100Y43"},
        issuer: {name: "浙江省住房和城乡建设厅", code: "11220000013544541J"},
        face: {qualification: "建筑工程施工总承包壹级", legal_representative: "王五",
               registered_capital: "5000万元人民币", address: "杭州市西湖区示例路1号",
               economic_nature: "有限责任公司"}}]' >"$WORK/batch.json"
    curl -sS --fail-with-body -X POST "$ISSUER/v1/licences/batch" \
        -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
        --data-binary @"$WORK/batch.json" >"$WORK/batch-reply.json"
    [[ $(jq -r .failed "$WORK/batch-reply.json") == 0 ]] || { jq . "$WORK/batch-reply.json" | head -40 >&2; exit 1; }
    jq -r '.items[].licence.qr_text' "$WORK/batch-reply.json" >>"$TOKEN_FILE"
    issued=$((issued + n))
done
[[ $(sort -u "$TOKEN_FILE" | wc -l) == "$TOKENS" ]] || { echo "tokens not distinct" >&2; exit 1; }
log "issued $TOKENS distinct ES256 licences ($(head -c 2000 "$TOKEN_FILE" | head -1 | wc -c) bytes of HR1 text each)"

# ---- warm-up and correctness check
verify_one() {
    curl -sS --fail -X POST "$VERIFIER/v1/verify" -H 'content-type: text/plain' --data-binary "$1"
}
verify_one "$(head -1 "$TOKEN_FILE")" >"$OUT/first-report.json"
for line in 1 2 500 1000 "$TOKENS"; do
    v=$(verify_one "$(sed -n "${line}p" "$TOKEN_FILE")" | jq -r .verdict)
    [[ "$v" == valid ]] || { echo "token $line: verdict $v" >&2; jq . "$OUT/first-report.json" >&2; exit 1; }
done
log "warm: sample tokens verify as valid"

cat >"$WORK/cycle.lua" <<'LUA'
-- Cycles through the distinct tokens (one per line of the file given after --).
local tokens = {}
local i = 0
local headers = { ["Content-Type"] = "text/plain" }
init = function(args)
    for line in io.lines(args[1]) do
        tokens[#tokens + 1] = line
    end
    i = math.random(#tokens)
end
request = function()
    i = i % #tokens + 1
    return wrk.format("POST", "/v1/verify", headers, tokens[i])
end
LUA

# A short untimed warm-up at full load (connections, allocator, every token seen once).
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d3s -s "$WORK/cycle.lua" "$VERIFIER" -- "$TOKEN_FILE" >/dev/null

# ---- max throughput, and the server's CPU time while it runs
# utime + stime of every thread of the demo process, in clock ticks (fields 14 and 15 of
# /proc/<pid>/stat, counted after the command name, which is in parentheses).
server_ticks() { sed 's/^.*) //' "/proc/$DEMO_PID/stat" | awk '{print $12 + $13}'; }
TICKS_PER_SECOND=$(getconf CLK_TCK)
LOAD_BEFORE=$(loadavg)
log "wrk: max throughput, $CONNS connections, $DURATION (load $LOAD_BEFORE)"
TICKS_BEFORE=$(server_ticks)
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s "$WORK/cycle.lua" "$VERIFIER" -- "$TOKEN_FILE" | tee "$OUT/wrk.txt" >&2
TICKS_AFTER=$(server_ticks)
SERVER_CPU_S=$(awk -v a="$TICKS_BEFORE" -v b="$TICKS_AFTER" -v hz="$TICKS_PER_SECOND" 'BEGIN {printf "%.2f", (b - a) / hz}')
ANSWERS=$(awk '/requests in/ {print $1}' "$OUT/wrk.txt")
MAX_RPS=$(awk '/^Requests\/sec:/ {print $2}' "$OUT/wrk.txt")
NON2XX=$(awk '/Non-2xx/ {print $5}' "$OUT/wrk.txt")
NON2XX=${NON2XX:-0}
HALF=$(awk -v r="$MAX_RPS" 'BEGIN {printf "%d", r / 2}')

# ---- latency at half load
P50=-1 P99=-1 P999=-1 HALF_RPS=0 HALF_OK=0
if [[ "$LATENCY" == 1 ]]; then
    log "oha: fixed rate $HALF req/s (half of $MAX_RPS), $DURATION"
    taskset -c "$LOAD_CPU" oha --no-tui -q "$HALF" --latency-correction -c "$CONNS" -z "$DURATION" \
        -m POST -H 'content-type: text/plain' -Z "$TOKEN_FILE" \
        --output-format json -o "$OUT/oha-half.json" "$VERIFIER/v1/verify"
    P50=$(jq '.latencyPercentiles.p50 * 1000' "$OUT/oha-half.json")
    P99=$(jq '.latencyPercentiles.p99 * 1000' "$OUT/oha-half.json")
    P999=$(jq '.latencyPercentiles["p99.9"] * 1000' "$OUT/oha-half.json")
    HALF_RPS=$(jq '.summary.requestsPerSec' "$OUT/oha-half.json")
    HALF_OK=$(jq '[.statusCodeDistribution | to_entries[] | select(.key != "200") | .value] | add // 0' "$OUT/oha-half.json")
fi

curl -sS "$VERIFIER/metrics" >"$OUT/verifier-metrics.txt"
VALID=$(awk '/^huren_verifications_valid_total/ {print $NF}' "$OUT/verifier-metrics.txt")
NOT_VALID=$(awk '/^huren_verifications_(invalid|indeterminate)_total/ {s += $NF} END {print s + 0}' "$OUT/verifier-metrics.txt")
LOAD_AFTER=$(loadavg)

# ---- optional profile of the server under max load (PERF=1): perf samples of the demo
# process while wrk runs again; flat and caller-grouped reports in $OUT/perf-*.txt.
if [[ "${PERF:-0}" == 1 ]]; then
    log "perf: profiling the server under max load for 10 s"
    taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d12s -s "$WORK/cycle.lua" "$VERIFIER" -- "$TOKEN_FILE" >"$OUT/wrk-perf.txt" &
    WRK_PID=$!
    sleep 1
    perf record -F 1999 -g --call-graph dwarf,16384 -p "$DEMO_PID" -o "$OUT/perf.data" -- sleep 10 2>"$OUT/perf-record.log" || true
    wait "$WRK_PID" || true
    perf report -i "$OUT/perf.data" --no-children --sort dso,sym --stdio 2>/dev/null | head -150 >"$OUT/perf-flat.txt" || true
    perf report -i "$OUT/perf.data" --children --sort sym --stdio -g none 2>/dev/null | head -200 >"$OUT/perf-children.txt" || true
    log "perf reports: $OUT/perf-flat.txt, $OUT/perf-children.txt"
fi

# ---- stop the demo before the raw benchmark (it would compete for CPU $SERVER_CPU)
cleanup
DEMO_PID=""

# ---- single-core raw ES256 verify rate, same CPU as the server
log "raw ES256 verify (crypto bench, CPU $SERVER_CPU)"
(cd "$ROOT" && taskset -c "$SERVER_CPU" cargo bench -p huren-crypto --bench verify -- \
    'raw_verify/ES256_(aws-lc-rs_parsed|huren_PublicKey)$' 2>&1) | tee "$OUT/raw-verify.txt" | grep -E '^raw_verify|time:' >&2 || true
CRITERION=${CARGO_TARGET_DIR:-$ROOT/target}/criterion
median_ns() { jq '.median.point_estimate' "$CRITERION/raw_verify/$1/new/estimates.json"; }
RAW_NS=$(median_ns ES256_aws-lc-rs_parsed)
HUREN_NS=$(median_ns ES256_huren_PublicKey)

awk -v max="$MAX_RPS" -v raw_ns="$RAW_NS" -v huren_ns="$HUREN_NS" -v half="$HALF" -v half_rps="$HALF_RPS" \
    -v answers="$ANSWERS" -v cpu_s="$SERVER_CPU_S" -v duration="$DURATION" -v latency="$LATENCY" \
    -v p50="$P50" -v p99="$P99" -v p999="$P999" -v non2xx="$NON2XX" -v half_bad="$HALF_OK" \
    -v before="$LOAD_BEFORE" -v after="$LOAD_AFTER" -v valid="$VALID" -v notvalid="$NOT_VALID" -v date="$(date -u +%Y-%m-%dT%H:%MZ)" '
BEGIN {
    raw = 1e9 / raw_ns; hur = 1e9 / huren_ns; ratio = max / raw
    per_cpu = answers / cpu_s; cpu_ratio = per_cpu / raw
    wall = duration; sub(/s$/, "", wall)
    printf "\n## verifier-load summary (%s)\n\n", date
    printf "| measure | value |\n|---|---:|\n"
    printf "| **answers per server CPU-second / raw ES256 verifies per second, 1 core (target >= 0.70)** | **%.2f** (%s) |\n", cpu_ratio, cpu_ratio >= 0.7 ? "met" : "NOT met"
    printf "| answers per server CPU-second | %.0f (%d answers, %.2f s of server CPU, %.2f cores busy) |\n", per_cpu, answers, cpu_s, cpu_s / wall
    printf "| server CPU per answer vs one raw verify | %.1f µs vs %.1f µs |\n", cpu_s * 1e6 / answers, raw_ns / 1000
    printf "| service max throughput (wrk) | %.0f req/s |\n", max
    printf "| non-2xx responses under max load | %d |\n", non2xx
    printf "| raw ES256 verify, aws-lc-rs parsed key, 1 core | %.0f /s (%.1f µs) |\n", raw, raw_ns / 1000
    printf "| raw ES256 verify, huren PublicKey::verify_jws, 1 core | %.0f /s (%.1f µs) |\n", hur, huren_ns / 1000
    printf "| service / raw aws-lc-rs (target >= 90 %%) | %.1f %% (%s) |\n", ratio * 100, ratio >= 0.9 ? "met" : "NOT met"
    printf "| per-request time in service vs raw verify | %.1f µs vs %.1f µs |\n", 1e6 / max, raw_ns / 1000
    if (latency == 1) {
        printf "| fixed rate (half of max), achieved | %d req/s, %.0f req/s |\n", half, half_rps
        printf "| latency at half load p50 / p99 / p99.9 | %.2f / %.2f / %.2f ms |\n", p50, p99, p999
        printf "| p99 target <= 10 ms | %s |\n", p99 <= 10 ? "met" : "NOT met"
        printf "| non-200 at half load | %d |\n", half_bad
    } else {
        printf "| latency at half load | not run (no oha, or NO_LATENCY=1) |\n"
    }
    printf "| verdicts counted by the verifier: valid / not valid | %d / %d |\n", valid, notvalid
    printf "| load average before / after | %s / %s |\n", before, after
}' | tee "$OUT/summary.md"
log "results in $OUT"
