#!/usr/bin/env bash
# fake-cas throughput beside nginx on loopback: is the fleet ever the bottleneck of a load test?
#
# fake-cas (one server, one thread) and nginx (one worker, access log off) each serve
#   health  GET /owa/HealthCheck.htm   fake-cas: the real page; nginx: a static file of the same
#                                      size (29 bytes)
#   ews     POST /EWS/Exchange.asmx    fake-cas: a SOAP GetFolder (Basic auth, parsed with
#                                      pugixml, answered from the mailbox); nginx: GET of a static
#                                      file as large as that answer
# driven by `wrk -t1 -c50` pinned to CPU 1 with the server pinned to CPU 0, in interleaved rounds.
# Printed: req/s per round, the server's CPU microseconds per request (from /proc), and the
# ratios fake-cas ÷ nginx (req/s, and nginx µs/req ÷ fake-cas µs/req = throughput per core).
#
# Usage: tests/bench/fake_cas_bench.sh BUILD_DIR      env: DUR [5] WARM [1] REPS [3]
# Traffic goes only to 127.0.0.1; every process started is stopped by PID.
set -euo pipefail
build=${1:?usage: fake_cas_bench.sh BUILD_DIR}
DUR=${DUR:-5}; WARM=${WARM:-1}; REPS=${REPS:-3}
BENCH=fake_cas_bench
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"
bench_need wrk nginx taskset curl
fake_cas="$build/fake-cas/fake-cas"
[ -x "$fake_cas" ] || { echo "fake_cas_bench: $fake_cas is not built" >&2; exit 2; }

# --- fake-cas: one server, one thread, EWS with Basic so that wrk can authenticate ------------
cat > "$WORK/fleet.json" <<'JSON'
{ "threads": 1, "request_log_capacity": 10000,
  "servers": [ { "vdirs": { "ews": { "auth": ["Basic"] } } } ] }
JSON
start "$WORK/fake-cas.out" taskset -c 0 "$fake_cas" --config "$WORK/fleet.json" --log-level warning
fake_pid=$LAST
for _ in $(seq 100); do grep -q "cas1 " "$WORK/fake-cas.out" 2>/dev/null && break; sleep 0.05; done
fake_url=$(awk '/ cas1 /{print $4}' "$WORK/fake-cas.out")
[ -n "$fake_url" ] || { echo "fake_cas_bench: fake-cas did not start"; cat "$WORK/fake-cas.out"; exit 1; }

auth="Basic $(printf 'CONTOSO\\jdoe:P@ssw0rd' | base64)"
soap='<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><soap:Header><t:RequestServerVersion Version="Exchange2016"/></soap:Header><soap:Body><m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder></soap:Body></soap:Envelope>'
ews_bytes=$(curl -s -o /dev/null -w '%{size_download}' -X POST -H "Authorization: $auth" \
  -H 'Content-Type: text/xml; charset=utf-8' --data-binary "$soap" "$fake_url/EWS/Exchange.asmx")
health_bytes=$(curl -s -o /dev/null -w '%{size_download}' "$fake_url/owa/HealthCheck.htm")
cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.body = [[$soap]]
wrk.headers["Content-Type"] = "text/xml; charset=utf-8"
wrk.headers["Authorization"] = "$auth"
LUA

# --- nginx: one worker, static files of the same sizes ------------------------------------------
mkdir -p "$WORK/www/owa" "$WORK/www/EWS" "$WORK/nginx"
head -c "$health_bytes" /dev/zero | tr '\0' 'x' > "$WORK/www/owa/HealthCheck.htm"
head -c "$ews_bytes" /dev/zero | tr '\0' 'x' > "$WORK/www/EWS/Exchange.asmx"
nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_port;
    root $WORK/www;
  }
}
CONF
chmod -R a+rX "$WORK"
start "$WORK/nginx.out" taskset -c 0 nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
nginx_pid=$LAST
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/owa/HealthCheck.htm" && break; sleep 0.05; done

# CPU ticks (user + system) of a process and its children threads/workers.
ticks() { local t=0; for p in "$@"; do set -- $(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null || echo "0 0"); t=$((t + $1 + $2)); done; echo "$t"; }
hz=$(getconf CLK_TCK)
nginx_workers() { pgrep -P "$nginx_pid" || true; }

# run NAME URL [wrk args...]: prints "rps us_per_req"
run() {
  local url=$1; shift
  local cpu_pids=("$@")
  wrk -t1 -c50 -d"${WARM}s" "${WRK_ARGS[@]}" "$url" > /dev/null 2>&1 || true
  local before; before=$(ticks "${cpu_pids[@]}")
  local out; out=$(taskset -c 1 wrk -t1 -c50 -d"${DUR}s" "${WRK_ARGS[@]}" "$url")
  local after; after=$(ticks "${cpu_pids[@]}")
  local rps; rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  local non2xx; non2xx=$(awk '/Non-2xx/{print $5}' <<<"$out")
  if [ -n "$non2xx" ]; then echo "fake_cas_bench: $non2xx non-2xx answers from $url" >&2; fi
  local reqs; reqs=$(awk '/requests in/{print $1}' <<<"$out")
  python3 -c "import sys; r=float('$rps'); n=float('$reqs'); t=($after-$before)/$hz; print(f'{r:.0f} {t*1e6/n:.1f}')"
}

declare -A rps us
for workload in health ews; do
  for rep in $(seq "$REPS"); do
    for server in fake-cas nginx; do
      if [ "$server" = fake-cas ]; then
        cpu=("$fake_pid")
        if [ "$workload" = health ]; then url="$fake_url/owa/HealthCheck.htm"; WRK_ARGS=();
        else url="$fake_url/EWS/Exchange.asmx"; WRK_ARGS=(-s "$WORK/post.lua"); fi
      else
        mapfile -t cpu < <(nginx_workers)
        WRK_ARGS=()
        if [ "$workload" = health ]; then url="http://127.0.0.1:$nginx_port/owa/HealthCheck.htm";
        else url="http://127.0.0.1:$nginx_port/EWS/Exchange.asmx"; fi
      fi
      read -r r u < <(run "$url" "${cpu[@]}")
      printf 'RESULT workload=%s server=%s rep=%s rps=%s us_per_req=%s\n' "$workload" "$server" "$rep" "$r" "$u"
      rps[$workload,$server]="${rps[$workload,$server]:-} $r"
      us[$workload,$server]="${us[$workload,$server]:-} $u"
    done
  done
done

median() { python3 -c "import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
echo
printf '%-8s %12s %12s %10s %14s %14s %12s\n' workload fake-cas_rps nginx_rps ratio fake-cas_us/r nginx_us/r per-core
for workload in health ews; do
  fr=$(median ${rps[$workload,fake-cas]}); nr=$(median ${rps[$workload,nginx]})
  fu=$(median ${us[$workload,fake-cas]}); nu=$(median ${us[$workload,nginx]})
  python3 -c "fr,nr,fu,nu=$fr,$nr,$fu,$nu; print(f'{\"$workload\":<8} {fr:12.0f} {nr:12.0f} {fr/nr:10.2f} {fu:14.1f} {nu:14.1f} {nu/fu:12.2f}')"
done
echo "(ratio = fake-cas req/s ÷ nginx req/s; per-core = nginx CPU µs/req ÷ fake-cas CPU µs/req; goal ≥ 0.8)"
