#!/usr/bin/env bash
# The cost of the proxy's live-operations features on the request path: one gatehouse-proxy
# with none of them ("plain") beside one with all of them ("ops": a health test per second,
# client affinity with the client pinned by its cookie, host-name affinity, the live traffic
# test, outlier ejection and slow start), on identical nginx back ends, on loopback.
#
# Usage: tests/bench/proxy_ops_bench.sh BUILD_DIR
#
# Each proxy runs one thread pinned to SUT_CPU; wrk -t1 -c CONNS pinned to CLIENT_CPU sends
# GET /owa/HealthCheck.htm (15 bytes) for WARM + DUR seconds, the proxies taking turns, REPS
# rounds. Printed: requests/s of each and the ratio ops / plain per round (the machine is shared
# and noisy: compare within a round).
#
# Knobs: DUR [5] WARM [1] CONNS [50] REPS [3] SUT_CPU [0] CLIENT_CPU [1]
# Only 127.0.0.1 is used; every process started here is stopped by its PID.
set -euo pipefail

BUILD=${1:?usage: proxy_ops_bench.sh BUILD_DIR}
GATEHOUSE=$(cd "$BUILD" && pwd)/proxy/gatehouse-proxy
DUR=${DUR:-5}
WARM=${WARM:-1}
CONNS=${CONNS:-50}
REPS=${REPS:-3}
SUT_CPU=${SUT_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
H=127.0.0.1
B1=29281 B2=29282  # below the ephemeral range (32768-60999)
declare -A PORT=([plain]=29381 [ops]=29382)

BENCH=proxy_ops_bench
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"
bench_need wrk nginx taskset python3 curl ss
[ -x "$GATEHOUSE" ] || { echo "proxy_ops_bench: $GATEHOUSE not built" >&2; exit 2; }
ports_free $B1 $B2 "${PORT[@]}"

mkdir -p "$WORK/www/owa"
printf '200 OK<br/>CAS1' > "$WORK/www/owa/HealthCheck.htm"
for b in 1 2; do
  d=$WORK/cas$b; mkdir -p "$d"
  port=$([ $b = 1 ] && echo $B1 || echo $B2)
  cat > "$d/nginx.conf" << EOF
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000; keepalive_timeout 75s;
  client_body_temp_path $d/cb; proxy_temp_path $d/pt; fastcgi_temp_path $d/ft;
  uwsgi_temp_path $d/ut; scgi_temp_path $d/st;
  server { listen $H:$port backlog=4096; root $WORK/www; location / { } }
}
EOF
  start "$d/out.log" taskset -c "$CLIENT_CPU" nginx -p "$d" -c "$d/nginx.conf"
  wait_port "$port" "$LAST" ||
    { echo "proxy_ops_bench: back end $b failed" >&2; cat "$d"/*.log >&2; exit 1; }
done

farm_extra() {
  [ "$1" = ops ] || return 0
  cat << 'EOF'
,
      "health": { "url": "http://cas/owa/HealthCheck.htm", "interval_ms": 1000, "match": "200 OK" },
      "affinity": { "enabled": true, "key": "bench" },
      "host_affinity": { "provider": "round_robin", "servers_per_host": 2 },
      "live_traffic": { "failure_statuses": "500-599", "max_failures": 1000 },
      "outlier": { "consecutive_failures": 1000 },
      "slow_start_ms": 1000
EOF
}
for kind in plain ops; do
  d=$WORK/$kind; mkdir -p "$d"
  cat > "$d/gatehouse.json" << EOF
{
  "listeners": { "http": { "address": "$H", "port": ${PORT[$kind]} } },
  "config_watch": { "enabled": false },
  "farms": { "cas": { "servers": [ { "address": "$H", "port": $B1 },
                                   { "address": "$H", "port": $B2 } ]$(farm_extra $kind) } },
  "rules": [ { "name": "all", "pattern_syntax": "wildcard", "pattern": "*",
               "action": { "type": "route", "farm": "cas" } } ]
}
EOF
  start "$d/out.log" taskset -c "$SUT_CPU" "$GATEHOUSE" --config "$d/gatehouse.json" \
    --threads 1 --log-level warning
  wait_port "${PORT[$kind]}" "$LAST" ||
    { echo "proxy_ops_bench: $kind failed" >&2; cat "$d/out.log" >&2; exit 1; }
done

# The affinity cookie for the first back end: HMAC-SHA256("bench", "127.0.0.1:B1").
COOKIE=$(python3 -c "import hmac, hashlib, sys
print(hmac.new(b'bench', sys.argv[1].encode(), hashlib.sha256).hexdigest())" "$H:$B1")
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$H:${PORT[ops]}/owa/HealthCheck.htm")" = 200 ] \
  || { echo "proxy_ops_bench: ops proxy does not answer" >&2; exit 1; }

rps() {  # KIND
  local args=(-t1 -c"$CONNS" --latency)
  local url="http://$H:${PORT[$1]}/owa/HealthCheck.htm"
  [ "$1" = ops ] && args+=(-H "Cookie: ARRAffinity=$COOKIE")
  taskset -c "$CLIENT_CPU" wrk "${args[@]}" -d"${WARM}s" "$url" > /dev/null
  taskset -c "$CLIENT_CPU" wrk "${args[@]}" -d"${DUR}s" "$url" |
    awk '/^Requests\/sec/ { print $2 } /Non-2xx/ { print "ERR" }'
}

echo "== request path with every live-operations feature on, against none (GET 15 bytes, c=$CONNS)"
printf '%-6s %12s %12s %8s\n' round plain_rps ops_rps ratio
for r in $(seq 1 "$REPS"); do
  p=$(rps plain); o=$(rps ops)
  case "$p$o" in *ERR*) echo "proxy_ops_bench: non-2xx answers" >&2; exit 1;; esac
  printf '%-6s %12.0f %12.0f %8.3f\n' "$r" "$p" "$o" "$(python3 -c "print($o / $p)")"
done
