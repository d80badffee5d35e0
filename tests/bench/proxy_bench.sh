#!/usr/bin/env bash
# gatehouse-proxy beside HAProxy and nginx, on identical nginx back ends, on loopback.
#
# Usage: tests/bench/proxy_bench.sh BUILD_DIR
#
# Two nginx back ends (one worker each) serve /owa/HealthCheck.htm (15 bytes), /ews/small
# (4 KiB) and /owa/big (1 MiB). Each proxy runs one thread (HAProxy nbthread 1, nginx one
# worker, gatehouse-proxy --threads 1), pinned to SUT_CPU, and balances round robin across both
# back ends with keep-alive to them, sending them the same request (X-Forwarded-For added:
# lib.sh). wrk -t1 -c CONNS, pinned to CLIENT_CPU, runs WARM seconds of warm-up then DUR seconds
# measured, per proxy and workload, proxies taking turns (the order reversed every other
# repetition). Figures are printed as ratios to HAProxy measured in the same
# repetition (this machine is shared and noisy), the median over REPS repetitions, with each
# proxy's CPU time per request (from /proc), the steadiest of the three.
# First each proxy, freshly started, holds IDLE idle keep-alive client connections (each has
# served one request) and the growth of its resident memory per connection is reported.
#
# Knobs: DUR [4] WARM [1] CONNS [50] IDLE [2000; 0 skips it] REPS [9] SUT_CPU [0]
# CLIENT_CPU [1]. Many short repetitions rather than a few long ones: a neighbour's burst spoils
# a pair or two, which the median of nine pairs leaves out.
# Only 127.0.0.1 is used; every process started here is stopped by its PID.
set -euo pipefail

BUILD=${1:?usage: proxy_bench.sh BUILD_DIR}
GATEHOUSE=$(cd "$BUILD" && pwd)/proxy/gatehouse-proxy
DUR=${DUR:-4}
WARM=${WARM:-1}
CONNS=${CONNS:-50}
IDLE=${IDLE:-2000}
REPS=${REPS:-9}
SUT_CPU=${SUT_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
H=127.0.0.1
B1=29081 B2=29082  # below the ephemeral range (32768-60999)
declare -A PORT=([haproxy]=29181 [nginx]=29182 [gatehouse]=29183)
KINDS=(haproxy nginx gatehouse)

BENCH=proxy_bench
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"
bench_need wrk haproxy nginx taskset python3 curl ss
[ -x "$GATEHOUSE" ] || { echo "proxy_bench: $GATEHOUSE not built" >&2; exit 2; }
ulimit -n 20000 2> /dev/null || true
declare -A PID
ports_free $B1 $B2 "${PORT[@]}"

# ---- back ends -------------------------------------------------------------------------------
mkdir -p "$WORK/www/owa" "$WORK/www/ews"
printf '200 OK<br/>CAS1' > "$WORK/www/owa/HealthCheck.htm"
head -c 4096 /dev/zero | tr '\0' 'e' > "$WORK/www/ews/small"
head -c 1048576 /dev/zero | tr '\0' 'b' > "$WORK/www/owa/big"
for b in 1 2; do
  d=$WORK/cas$b; mkdir -p "$d"
  port=$([ $b = 1 ] && echo $B1 || echo $B2)
  cat > "$d/nginx.conf" << EOF
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 10000; }
http {
  access_log off;
  sendfile on; tcp_nopush on;
  keepalive_requests 1000000; keepalive_timeout 75s;
  client_body_temp_path $d/cb; proxy_temp_path $d/pt; fastcgi_temp_path $d/ft;
  uwsgi_temp_path $d/ut; scgi_temp_path $d/st;
  default_type application/octet-stream;
  server { listen $H:$port backlog=4096; root $WORK/www; location / { } }
}
EOF
  start "$d/out.log" taskset -c "$SUT_CPU" nginx -p "$d" -c "$d/nginx.conf"
  wait_port "$port" "$LAST" || { echo "proxy_bench: back end $b failed" >&2; cat "$d/error.log" >&2; exit 1; }
done

# ---- proxies ---------------------------------------------------------------------------------
start_haproxy() {
  local d=$WORK/haproxy; mkdir -p "$d"
  haproxy_config "${PORT[haproxy]}" $B1 $B2 > "$d/haproxy.cfg"
  start "$d/out.log" taskset -c "$SUT_CPU" haproxy -db -f "$d/haproxy.cfg"
  PID[haproxy]=$LAST
}

start_nginx() {
  local d=$WORK/nginx; mkdir -p "$d"
  cat > "$d/nginx.conf" << EOF
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 10000; }
http {
  access_log off;
  client_body_temp_path $d/cb; proxy_temp_path $d/pt; fastcgi_temp_path $d/ft;
  uwsgi_temp_path $d/ut; scgi_temp_path $d/st;
  keepalive_requests 1000000; keepalive_timeout 75s;
  upstream cas { server $H:$B1; server $H:$B2; keepalive 64; keepalive_requests 1000000; }
  server {
    listen $H:${PORT[nginx]} backlog=4096;
    location / {
      proxy_pass http://cas;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_max_temp_file_size 0;
    }
  }
}
EOF
  start "$d/out.log" taskset -c "$SUT_CPU" nginx -p "$d" -c "$d/nginx.conf"
  PID[nginx]=$LAST
}

start_gatehouse() {
  local d=$WORK/gatehouse; mkdir -p "$d"
  gatehouse_config "${PORT[gatehouse]}" $B1 $B2 > "$d/gatehouse.json"
  start "$d/out.log" taskset -c "$SUT_CPU" "$GATEHOUSE" --config "$d/gatehouse.json" \
    --threads 1 --log-level warning
  PID[gatehouse]=$LAST
}

start_kind() {
  "start_$1"
  wait_port "${PORT[$1]}" "${PID[$1]}" || { echo "proxy_bench: $1 failed to start" >&2; cat "$WORK/$1"/*.log >&2; exit 1; }
  local body
  body=$(curl -s --max-time 5 "http://$H:${PORT[$1]}/owa/HealthCheck.htm") || true
  [ "$body" = "200 OK<br/>CAS1" ] || { echo "proxy_bench: $1 answered '$body'" >&2; exit 1; }
  [ "$(curl -s --max-time 5 "http://$H:${PORT[$1]}/owa/big" | wc -c)" = 1048576 ] \
    || { echo "proxy_bench: $1 mangled /owa/big" >&2; exit 1; }
}

# The resident memory (KiB) of a proxy: nginx's worker, the others' single process.
rss_kb() {
  local pid=${PID[$1]}
  if [ "$1" = nginx ]; then pid=$(ps -o pid= --ppid "$pid" | head -1 | tr -d ' '); fi
  awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"
}

# ---- memory per idle connection (fresh processes) --------------------------------------------
# Every proxy binds first: thousands of client sockets would otherwise take ephemeral ports that
# a later listener needs.
for kind in "${KINDS[@]}"; do start_kind "$kind"; done
[ "$IDLE" -gt 0 ] \
  && echo "== memory per idle client connection ($IDLE keep-alive connections, each served once)" \
  && printf '%-10s %12s %12s %14s %8s\n' proxy rss_before_kb rss_after_kb bytes_per_conn ratio
declare -A PER_CONN
for kind in "${KINDS[@]}"; do
  [ "$IDLE" -gt 0 ] || break  # IDLE=0: throughput only
  before=$(rss_kb "$kind")
  python3 - "$H" "${PORT[$kind]}" "$IDLE" "$WORK/idle.$kind" << 'PY' &
import socket, sys, os, time
host, port, n, ready = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
conns = []
for i in range(n):
    s = socket.create_connection((host, port))
    s.sendall(b"GET /owa/HealthCheck.htm HTTP/1.1\r\nHost: mail.contoso.com\r\n\r\n")
    got = b""
    while not got.endswith(b"200 OK<br/>CAS1"):
        chunk = s.recv(4096)
        if not chunk: sys.exit("closed early")
        got += chunk
    conns.append(s)
open(ready, "w").close()
time.sleep(60)
PY
  holder=$!
  for _ in $(seq 1 600); do [ -e "$WORK/idle.$kind" ] && break; kill -0 $holder 2> /dev/null || break; sleep 0.1; done
  [ -e "$WORK/idle.$kind" ] || { echo "proxy_bench: idle clients failed on $kind" >&2; exit 1; }
  sleep 1  # let the proxy settle after the last response
  after=$(rss_kb "$kind")
  kill $holder 2> /dev/null || true; wait $holder 2> /dev/null || true
  PER_CONN[$kind]=$(( (after - before) * 1024 / IDLE ))
  printf '%-10s %12s %12s %14s %8s\n' "$kind" "$before" "$after" "${PER_CONN[$kind]}" \
    "$(awk -v a="${PER_CONN[$kind]}" -v b="${PER_CONN[haproxy]}" 'BEGIN { printf (b > 0 ? "%.2f" : "-"), a / b }')"
done

# ---- throughput and latency ------------------------------------------------------------------
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else printf "nan" }'
}

# CPU time (ns) a proxy used so far, all its threads: nginx's worker, the others' process.
# schedstat counts nanoseconds; /proc/PID/stat, the fallback, only clock ticks.
TCK=$(getconf CLK_TCK)
cpu_ns() {
  local pid=${PID[$1]}
  if [ "$1" = nginx ]; then pid=$(ps -o pid= --ppid "$pid" | head -1 | tr -d ' '); fi
  if [ -r "/proc/$pid/schedstat" ]; then
    cat "/proc/$pid"/task/*/schedstat | awk '{ s += $1 } END { printf "%.0f\n", s }'
  else
    awk -v tck="$TCK" '{ sub(/^.*\) /, ""); printf "%.0f\n", ($12 + $13) * 1e9 / tck }' \
      "/proc/$pid/stat"
  fi
}

declare -A RPS P99 ERRS CPU RRPS RP99 RCPU LAST_RPS LAST_P99 LAST_CPU
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf (b > 0 ? "%.3f" : "nan"), a / b }'; }
for rep in $(seq 1 "$REPS"); do
  for workload in health small big; do
    case $workload in health) path=/owa/HealthCheck.htm ;; small) path=/ews/small ;; big) path=/owa/big ;; esac
    order=("${KINDS[@]}")
    [ $((rep % 2)) = 0 ] && order=(gatehouse nginx haproxy)
    for kind in "${order[@]}"; do
      url=http://$H:${PORT[$kind]}$path
      taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${WARM}s" "$url" > /dev/null 2>&1 || true
      t0=$(cpu_ns "$kind")
      out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DUR}s" --timeout 5s --latency "$url" 2>&1)
      t1=$(cpu_ns "$kind")
      rps=$(awk '/^Requests\/sec:/ { print $2 }' <<< "$out")
      p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<< "$out")")
      errs=$(awk -F'[ ,]+' '/Socket errors:/ { print $5 + $7 + $9 + $11 }' <<< "$out")
      non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' <<< "$out")
      key=$workload/$kind
      RPS[$key]="${RPS[$key]:-} ${rps:-0}"
      P99[$key]="${P99[$key]:-} ${p99}"
      ERRS[$key]=$(( ${ERRS[$key]:-0} + ${errs:-0} + ${non2xx:-0} ))
      # proxy CPU microseconds per request: the least noisy figure on a shared machine
      CPU[$key]="${CPU[$key]:-} $(awk -v t=$((t1 - t0)) -v r="${rps:-0}" -v d="$DUR" \
        'BEGIN { printf "%.2f", (r > 0 ? 1e-3 * t / (r * d) : 0) }')"
      LAST_RPS[$kind]=${rps:-0} LAST_P99[$kind]=$p99 LAST_CPU[$kind]=${CPU[$key]##* }
    done
    # Ratios are taken within a repetition, whose proxies ran minutes apart at most: the median
    # of these paired ratios shrugs off a neighbour's burst that a ratio of medians would not.
    for kind in "${KINDS[@]}"; do
      key=$workload/$kind
      RRPS[$key]="${RRPS[$key]:-} $(ratio "${LAST_RPS[$kind]}" "${LAST_RPS[haproxy]}")"
      RP99[$key]="${RP99[$key]:-} $(ratio "${LAST_P99[$kind]}" "${LAST_P99[haproxy]}")"
      RCPU[$key]="${RCPU[$key]:-} $(ratio "${LAST_CPU[$kind]}" "${LAST_CPU[haproxy]}")"
    done
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo
echo "== throughput: wrk -t1 -c$CONNS ${DUR}s after ${WARM}s warm-up, proxies on cpu $SUT_CPU, wrk on cpu $CLIENT_CPU, median of $REPS"
echo "   (figures: medians; ratios: medians of the ratios within each repetition)"
printf '%-8s %-10s %11s %9s %10s %8s %12s %12s %12s\n' workload proxy req/s p99_ms cpu_us/req \
  errors rps/haproxy p99/haproxy cpu/haproxy
for workload in health small big; do
  for kind in "${KINDS[@]}"; do
    key=$workload/$kind
    printf '%-8s %-10s %11.1f %9.3f %10.2f %8s %12s %12s %12s\n' "$workload" "$kind" \
      "$(median <<< "${RPS[$key]}")" "$(median <<< "${P99[$key]}")" \
      "$(median <<< "${CPU[$key]}")" "${ERRS[$key]}" "$(median <<< "${RRPS[$key]}")" \
      "$(median <<< "${RP99[$key]}")" "$(median <<< "${RCPU[$key]}")"
  done
done
echo
echo "== gatehouse ÷ haproxy in each repetition, in order (rps / p99)"
for workload in health small big; do
  key=$workload/gatehouse
  printf '%-8s' "$workload"
  paste -d/ <(tr ' ' '\n' <<< "${RRPS[$key]}" | grep -v '^$') \
    <(tr ' ' '\n' <<< "${RP99[$key]}" | grep -v '^$') | tr '\n' ' '
  echo
done
