#!/usr/bin/env bash
# Row 81 of the reliability table, bounded: a soak of gatehouse-proxy with a mix of valid and
# malformed requests, watching its memory and descriptors against the warm baseline.
#
# Usage: tests/bench/proxy_soak_bench.sh BUILD_DIR
#
# One gatehouse-proxy (THREADS threads) in front of one nginx serving a small file. CLIENTS
# client processes send WARM requests (the baseline is taken after them), then REQUESTS more;
# every tenth is malformed (CL+TE, a bad chunk size, obs-fold, NUL in a value, a 17 KiB field,
# no Host), each on its own connection, the proxy refusing and closing it; the others are GETs
# on keep-alive connections reopened every 100 requests. Printed: RSS and open descriptors of
# the proxy after warm-up, after the soak once every client connection has closed, and the
# ratios after ÷ warm; the answers counted by kind. A valid request not answered 200, or a
# malformed one answered 200, fails the run.
#
# Knobs: WARM [20000] REQUESTS [200000] CLIENTS [4] THREADS [2]
# Only 127.0.0.1 is used; every process started here is stopped by its PID.
set -euo pipefail

BUILD=${1:?usage: proxy_soak_bench.sh BUILD_DIR}
GATEHOUSE=$(cd "$BUILD" && pwd)/proxy/gatehouse-proxy
WARM=${WARM:-20000}
REQUESTS=${REQUESTS:-200000}
CLIENTS=${CLIENTS:-4}
THREADS=${THREADS:-2}
H=127.0.0.1
BACKEND=29291 PROXY=29391  # below the ephemeral range (32768-60999)

BENCH=proxy_soak_bench
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"
bench_need nginx python3 ss
[ -x "$GATEHOUSE" ] || { echo "proxy_soak_bench: $GATEHOUSE not built" >&2; exit 2; }
ports_free $BACKEND $PROXY

mkdir -p "$WORK/www/owa" "$WORK/cas"
printf '200 OK<br/>CAS1' > "$WORK/www/owa/HealthCheck.htm"
cat > "$WORK/cas/nginx.conf" << EOF
worker_processes 1;
daemon off;
pid $WORK/cas/nginx.pid;
error_log $WORK/cas/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000; keepalive_timeout 75s;
  client_body_temp_path $WORK/cas/cb; proxy_temp_path $WORK/cas/pt;
  fastcgi_temp_path $WORK/cas/ft; uwsgi_temp_path $WORK/cas/ut; scgi_temp_path $WORK/cas/st;
  server { listen $H:$BACKEND backlog=4096; root $WORK/www; location / { } }
}
EOF
nginx -p "$WORK/cas" -c "$WORK/cas/nginx.conf" > "$WORK/cas/out.log" 2>&1 &
STARTED+=("$!")
wait_port "$BACKEND" "$!" || { echo "proxy_soak_bench: nginx failed" >&2; exit 1; }

cat > "$WORK/gatehouse.json" << EOF
{
  "listeners": { "http": { "address": "$H", "port": $PROXY } },
  "config_watch": { "enabled": false },
  "farms": { "cas": { "servers": [ { "address": "$H", "port": $BACKEND } ] } },
  "rules": [ { "name": "all", "pattern_syntax": "wildcard", "pattern": "*",
               "action": { "type": "route", "farm": "cas" } } ]
}
EOF
"$GATEHOUSE" --config "$WORK/gatehouse.json" --threads "$THREADS" --log-level error \
  > "$WORK/proxy.log" 2>&1 &
PID=$!
STARTED+=("$PID")
wait_port "$PROXY" "$PID" || { echo "proxy_soak_bench: proxy failed" >&2; cat "$WORK/proxy.log" >&2; exit 1; }

cat > "$WORK/client.py" << 'EOF'
# One soak client: N requests, every tenth malformed; prints "ok bad_answered unexpected".
import socket, sys
port, n, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
GET = b"GET /owa/HealthCheck.htm HTTP/1.1\r\nHost: mail.contoso.com\r\n\r\n"
MALFORMED = [
    b"POST /owa/ HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /owa/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
    b"GET /owa/ HTTP/1.1\r\nHost: a\r\nX-A: a\r\n b\r\n\r\n",
    b"GET /owa/ HTTP/1.1\r\nHost: good.com\x00.evil\r\n\r\n",
    b"GET /owa/ HTTP/1.1\r\nHost: a\r\nX-Big: " + b"x" * 17 * 1024 + b"\r\n\r\n",
    b"GET /owa/ HTTP/1.1\r\n\r\n",
]

def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

def read_response(s, buf):
    # Returns (status, rest of buffer) for one Content-Length response, (0, b"") on close.
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return 0, b""
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            return status, b""
        rest += chunk
    return status, rest[length:]

ok = refused = unexpected = 0
s, buf, on_conn = connect(), b"", 0
for i in range(n):
    if i % 10 == seed % 10:
        b = connect()
        try:
            b.sendall(MALFORMED[(i // 10) % len(MALFORMED)])
            status, _ = read_response(b, b"")
        except OSError:
            status = 0
        b.close()
        if status == 200:
            unexpected += 1
        else:
            refused += 1
        continue
    if on_conn == 100:
        s.close()
        s, buf, on_conn = connect(), b"", 0
    s.sendall(GET)
    status, buf = read_response(s, buf)
    on_conn += 1
    if status == 200:
        ok += 1
    else:
        unexpected += 1
        s.close()
        s, buf, on_conn = connect(), b"", 0
s.close()
print(ok, refused, unexpected)
EOF

run_clients() {  # TOTAL; prints "ok refused unexpected" summed over the clients
  local per=$(( $1 / CLIENTS )) pids=() i
  for i in $(seq 1 "$CLIENTS"); do
    python3 "$WORK/client.py" "$PROXY" "$per" "$i" > "$WORK/client$i.out" &
    pids+=("$!")
  done
  for i in "${pids[@]}"; do wait "$i"; done
  cat "$WORK"/client*.out | awk '{ o += $1; r += $2; u += $3 } END { print o, r, u }'
}
# RSS in KiB and open descriptors of the proxy, once its client connections are gone.
sample() {
  for _ in $(seq 1 50); do
    [ "$(ss -Htn state established "sport = :$PROXY" | wc -l)" = 0 ] && break
    sleep 0.1
  done
  echo "$(awk '/^VmRSS/ { print $2 }' "/proc/$PID/status") $(ls "/proc/$PID/fd" | wc -l)"
}

echo "== soak: $REQUESTS requests (10% malformed) after $WARM warm-up, $CLIENTS clients, $THREADS proxy threads"
read -r wok wref wun <<< "$(run_clients "$WARM")"
read -r rss0 fd0 <<< "$(sample)"
start=$(date +%s.%N)
read -r ok ref un <<< "$(run_clients "$REQUESTS")"
secs=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
read -r rss1 fd1 <<< "$(sample)"
printf '%-10s %10s %8s\n' "" rss_kib fds
printf '%-10s %10s %8s\n' warm "$rss0" "$fd0"
printf '%-10s %10s %8s\n' after "$rss1" "$fd1"
printf '%-10s %10.3f %8.3f\n' ratio "$(python3 -c "print($rss1 / $rss0)")" \
  "$(python3 -c "print($fd1 / $fd0)")"
echo "answers: $ok valid 200, $ref malformed refused, $un unexpected ($secs s)"
[ "$wun" = 0 ] && [ "$un" = 0 ] || { echo "proxy_soak_bench: unexpected answers" >&2; exit 1; }
