#!/usr/bin/env bash
# User-space instructions per request of gatehouse-proxy, HAProxy and nginx, counted by
# callgrind: unlike time, the count does not move with the load of a shared machine, so it shows
# a change of a few percent that proxy_bench.sh cannot tell from noise.
#
# Usage: tests/bench/proxy_instructions_bench.sh BUILD_DIR
#
# Two nginx back ends (not counted) serve /owa/HealthCheck.htm (15 bytes) and /ews/small (4 KiB).
# Each proxy runs one thread under `valgrind --tool=callgrind` with keep-alive to both back
# ends. ab sends WARMUP requests, the counters are zeroed, ab sends REQUESTS keep-alive requests
# over CONNS connections, and the counters are dumped: instructions ÷ requests, printed beside
# HAProxy's. Instructions are not time (cache misses and the kernel are not in them), so
# proxy_bench.sh stays the throughput figure.
#
# Knobs: REQUESTS [20000] WARMUP [2000] CONNS [20] CACHE_SIM [0; 1 adds callgrind's simulated
# first-level caches: instruction misses, data read misses and data write misses per request, a
# direction for work on memory locality (simulated caches, no kernel: not time either)]
# Only 127.0.0.1 is used; every process started here is stopped by its PID.
set -euo pipefail

BUILD=${1:?usage: proxy_instructions_bench.sh BUILD_DIR}
GATEHOUSE=$(cd "$BUILD" && pwd)/proxy/gatehouse-proxy
REQUESTS=${REQUESTS:-20000}
WARMUP=${WARMUP:-2000}
CONNS=${CONNS:-20}
CACHE_SIM=${CACHE_SIM:-0}
H=127.0.0.1
B1=29481 B2=29482  # below the ephemeral range (32768-60999)
declare -A PORT=([haproxy]=29491 [nginx]=29492 [gatehouse]=29493)
KINDS=(haproxy nginx gatehouse)

BENCH=proxy_instructions_bench
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"
bench_need valgrind callgrind_control ab haproxy nginx curl ss
[ -x "$GATEHOUSE" ] || { echo "$BENCH: $GATEHOUSE not built" >&2; exit 2; }
ports_free $B1 $B2 "${PORT[@]}"

mkdir -p "$WORK/www/owa" "$WORK/www/ews"
printf '200 OK<br/>CAS1' > "$WORK/www/owa/HealthCheck.htm"
head -c 4096 /dev/zero | tr '\0' 'e' > "$WORK/www/ews/small"

nginx_conf() {  # DIR BODY: a single-process nginx (no master, so callgrind sees the worker)
  cat << EOF
worker_processes 1;
master_process off;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 1000; }
http {
  access_log off;
  keepalive_requests 1000000; keepalive_timeout 75s;
  client_body_temp_path $1/cb; proxy_temp_path $1/pt; fastcgi_temp_path $1/ft;
  uwsgi_temp_path $1/ut; scgi_temp_path $1/st;
  $2
}
EOF
}

for b in 1 2; do
  d=$WORK/cas$b; mkdir -p "$d"
  port=$([ $b = 1 ] && echo $B1 || echo $B2)
  nginx_conf "$d" "server { listen $H:$port; root $WORK/www; location / { } }" > "$d/nginx.conf"
  start "$d/out.log" nginx -p "$d" -c "$d/nginx.conf"
  wait_port "$port" "$LAST" || { echo "$BENCH: back end $b failed" >&2; cat "$d/error.log" >&2; exit 1; }
done

command_of() {  # KIND: prints the proxy's configuration to its directory, then its command line
  local d=$WORK/$1; mkdir -p "$d"
  case $1 in
    haproxy)
      haproxy_config "${PORT[haproxy]}" $B1 $B2 > "$d/haproxy.cfg"
      echo "haproxy -db -f $d/haproxy.cfg" ;;
    nginx)
      nginx_conf "$d" "upstream cas { server $H:$B1; server $H:$B2; keepalive 64; }
  server { listen $H:${PORT[nginx]};
    location / { proxy_pass http://cas; proxy_http_version 1.1;
                 proxy_set_header Connection \"\";
                 proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; } }" > "$d/nginx.conf"
      echo "nginx -p $d -c $d/nginx.conf" ;;
    gatehouse)
      gatehouse_config "${PORT[gatehouse]}" $B1 $B2 > "$d/gatehouse.json"
      echo "$GATEHOUSE --config $d/gatehouse.json --threads 1 --log-level warning" ;;
  esac
}

# callgrind_control acts when the process next runs code: a proxy asleep in epoll_wait is woken
# by requests until the command has been carried out.
control() {  # PID PORT OPTION
  callgrind_control "$3" "$1" > /dev/null 2>&1 &
  local c=$!
  while kill -0 "$c" 2> /dev/null; do
    curl -s -o /dev/null --max-time 1 "http://$H:$2/owa/HealthCheck.htm" || true
  done
  wait "$c"
}

# A callgrind dump's count of EVENT per request (columns named by the dump's `events:` line).
per_request() {  # DUMP EVENT
  awk -v e="$2" -v n="$REQUESTS" '
    /^events:/ { for (i = 2; i <= NF; i++) if ($i == e) col = i }
    /^(summary|totals):/ && col { printf "%.0f", $col / n; exit }' "$1"
}

declare -A PER MISS
for kind in "${KINDS[@]}"; do
  d=$WORK/$kind
  read -ra cmd <<< "$(command_of "$kind")"
  vg_cmd=(valgrind --tool=callgrind --callgrind-out-file="$d/cg.%p")
  [ "$CACHE_SIM" = 1 ] && vg_cmd+=(--cache-sim=yes)
  start "$d/valgrind.log" "${vg_cmd[@]}" "${cmd[@]}"
  vg=$LAST
  dumps=0
  for _ in $(seq 1 300); do  # valgrind starts slowly: up to 30 s
    port_free "${PORT[$kind]}" || break
    kill -0 "$vg" 2> /dev/null || break
    sleep 0.1
  done
  wait_port "${PORT[$kind]}" "$vg" || { echo "$BENCH: $kind failed to start" >&2; cat "$d/valgrind.log" >&2; exit 1; }
  for workload in health small; do
    case $workload in health) path=/owa/HealthCheck.htm ;; small) path=/ews/small ;; esac
    url=http://$H:${PORT[$kind]}$path
    ab -q -k -n "$WARMUP" -c "$CONNS" "$url" > /dev/null
    control "$vg" "${PORT[$kind]}" -z
    out=$(ab -k -n "$REQUESTS" -c "$CONNS" "$url" 2>&1)
    control "$vg" "${PORT[$kind]}" -d
    done_n=$(awk '/^Complete requests:/ { print $3 }' <<< "$out")
    failed=$(awk '/^Failed requests:/ { print $3 }' <<< "$out")
    if [ "${done_n:-0}" != "$REQUESTS" ] || [ "${failed:-1}" != 0 ]; then
      echo "$BENCH: $kind $workload: $done_n of $REQUESTS requests, $failed failed" >&2
      exit 1
    fi
    # Dump N (cg.PID.N) holds what was counted since the zeroing before it.
    dumps=$((${dumps:-0} + 1))
    dump=$d/cg.$vg.$dumps
    [ -s "$dump" ] || { echo "$BENCH: $kind: no callgrind dump $dump" >&2; exit 1; }
    PER[$workload/$kind]=$(per_request "$dump" Ir)
    if [ "$CACHE_SIM" = 1 ]; then
      MISS[$workload/$kind]="$(per_request "$dump" I1mr) $(per_request "$dump" D1mr)"
      MISS[$workload/$kind]+=" $(per_request "$dump" D1mw)"
    fi
  done
  kill -TERM "$vg" 2> /dev/null || true
  wait "$vg" 2> /dev/null || true
done

echo "== user-space instructions per request (callgrind), one thread, ab -k -c$CONNS, $REQUESTS requests"
printf '%-8s %-10s %14s %12s' workload proxy instr/req vs_haproxy
[ "$CACHE_SIM" = 1 ] && printf ' %10s %10s %10s' I1_miss/req D1r_miss/req D1w_miss/req
printf '\n'
for workload in health small; do
  for kind in "${KINDS[@]}"; do
    printf '%-8s %-10s %14s %12s' "$workload" "$kind" "${PER[$workload/$kind]}" \
      "$(awk -v a="${PER[$workload/$kind]}" -v b="${PER[$workload/haproxy]}" 'BEGIN { printf "%.3f", a / b }')"
    # shellcheck disable=SC2086 # three numbers
    [ "$CACHE_SIM" = 1 ] && printf ' %10s %10s %10s' ${MISS[$workload/$kind]}
    printf '\n'
  done
done
