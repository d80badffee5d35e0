#!/usr/bin/env bash
# gatehouse-load beside wrk, and its open model against a known delay.
#
# 1. Throughput: nginx (one worker) serves a small static file on loopback; wrk and
#    gatehouse-load each run with 50 connections and one thread, three times, alternating. Figure:
#    gatehouse-load requests/s ÷ wrk requests/s (best run of each). Goal: >= 1.0.
# 2. Open model (wrk2-style): load_delay_server answers every request after DELAY ms.
#    Below capacity the latency must be the delay. Above it (2 connections, so capacity is
#    2/DELAY) each request also waits for a free connection, and latency is measured from when
#    it was due: the expected mean comes from simulating that queue exactly, with the service
#    time measured below capacity (the delay plus the loopback round trip). Figures: measured
#    ÷ expected mean latency. Goal: within 5 %.
#
# Usage: tests/bench/load_bench.sh BUILD_DIR   (needs nginx and wrk: `make bench-deps`)
set -euo pipefail
build=$(cd "${1:?usage: load_bench.sh BUILD_DIR}" && pwd)
load="$build/load/gatehouse-load"
delay_server="$build/tests/bench/load_delay_server"
duration=${LOAD_BENCH_SECONDS:-8}
BENCH=load_bench
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"
bench_need nginx wrk
if [ ! -x "$load" ] || [ ! -x "$delay_server" ]; then
  echo "load_bench: build gatehouse-load and load_delay_server first" >&2
  exit 2
fi

free_port() {
  # A port nothing listens on, probed upwards from a random start.
  local port
  port=$(( (RANDOM % 20000) + 30000 ))
  while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$(( port + 1 )); done
  echo "$port"
}

# Latency text from a summary ("981us", "1.20ms", "2.00s") in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) print v / 1000; else if (v ~ /ms$/) print v + 0; else print v * 1000 }'
}

# ---- 1. throughput beside wrk -----------------------------------------------------------
port=$(free_port)
mkdir -p "$WORK/www" "$WORK/logs"
printf 'gatehouse load benchmark: a small static file served by nginx\n' > "$WORK/www/index.html"
cat > "$WORK/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$port; root $WORK/www; }
}
CONF
start "$WORK/logs/nginx.out" nginx -c "$WORK/nginx.conf" -p "$WORK"
for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
echo "GET /index.html" > "$WORK/urls.txt"

best_wrk=0
best_ours=0
for round in 1 2 3; do
  w=$(wrk -t1 -c50 -d"${duration}s" "http://127.0.0.1:$port/index.html" |
        awk '/Requests\/sec/ {print $2}')
  o=$("$load" run --target "http://127.0.0.1:$port" --urls "$WORK/urls.txt" -c 50 -t 1 \
        -d "${duration}s" | sed -n 's/.*(\([0-9.]*\) req\/s).*/\1/p')
  echo "round $round: wrk ${w} req/s, gatehouse-load ${o} req/s"
  best_wrk=$(awk -v a="$best_wrk" -v b="$w" 'BEGIN { print (b > a) ? b : a }')
  best_ours=$(awk -v a="$best_ours" -v b="$o" 'BEGIN { print (b > a) ? b : a }')
done
awk -v o="$best_ours" -v w="$best_wrk" 'BEGIN {
  printf "throughput: gatehouse-load %.0f req/s, wrk %.0f req/s, ", o, w
  printf "ratio %.3f (goal >= 1.0)\n", o / w }'

# ---- 2. open model against a known delay --------------------------------------------------
delay_ms=20
start "$WORK/delay.port" "$delay_server" "$delay_ms"
for _ in $(seq 50); do [ -s "$WORK/delay.port" ] && break; sleep 0.1; done
dport=$(cat "$WORK/delay.port")
echo "GET /slow" > "$WORK/slow.txt"

# Mean latency of a FIFO queue served by `conns` connections, each request taking `service`
# ms, arrivals every 1/rate s; only requests that start before the end count (the generator
# starts nothing after its duration).
expected_mean() {  # rate conns service_ms
  awk -v rate="$1" -v conns="$2" -v d="$3" -v secs="$duration" 'BEGIN {
    n = int(rate * secs); for (c = 0; c < conns; c++) free[c] = 0
    for (i = 0; i < n; i++) {
      t = i * 1000 / rate; best = 0
      for (c = 1; c < conns; c++) if (free[c] < free[best]) best = c
      start = (t > free[best]) ? t : free[best]
      if (start >= secs * 1000) break
      free[best] = start + d; sum += start + d - t; count++
    }
    printf "%.3f", sum / count }'
}

check_open() {  # rate conns service_ms label; prints the measured mean on the last line
  local rate=$1 conns=$2 service=$3 label=$4
  local out mean expected
  out=$("$load" run --target "http://127.0.0.1:$dport" --urls "$WORK/slow.txt" -R "$rate" \
          -c "$conns" -t 1 -d "${duration}s" --graceful-stop 60s)
  mean=$(to_ms "$(echo "$out" | awk '/^  latency/ {print $3}')")
  expected=$(expected_mean "$rate" "$conns" "$service")
  awk -v m="$mean" -v e="$expected" -v l="$label" 'BEGIN {
    r = m / e; ok = (r >= 0.95 && r <= 1.05) ? "within 5%" : "OUTSIDE 5%"
    printf "open model, %s: mean latency %.2f ms, expected %.2f ms, ", l, m, e
    printf "ratio %.3f (%s)\n", r, ok }'
  echo "$out" | grep -E "schedule|start lag" | sed 's/^/    /'
  echo "$mean"
}

below=$(check_open 200 50 "$delay_ms" "200/s on 50 connections (below capacity)")
echo "$below" | sed '$d'
service=$(echo "$below" | tail -1)
echo "    service time measured below capacity: ${service} ms"
check_open 150 2 "$service" "150/s on 2 connections (capacity 100/s: queueing)" | sed '$d'
