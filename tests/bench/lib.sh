# Sourced by the bench scripts (not run on its own): tool checks, a work directory removed at
# exit, background processes stopped by PID at exit, and ports. Set BENCH (the script's name,
# for messages) before sourcing. Only 127.0.0.1 is used.

bench_need() {  # TOOL...
  local tool
  for tool in "$@"; do
    command -v "$tool" > /dev/null ||
      { echo "$BENCH: missing $tool (make bench-deps)" >&2; exit 2; }
  done
}

WORK=$(mktemp -d "/tmp/gatehouse-$BENCH.XXXXXX")
chmod 755 "$WORK"  # nginx workers run as nobody
STARTED=()
bench_cleanup() {
  local p
  for p in "${STARTED[@]}"; do kill -TERM "$p" 2> /dev/null || true; done
  for p in "${STARTED[@]}"; do wait "$p" 2> /dev/null || true; done
  rm -rf "$WORK"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }
ports_free() {  # PORT... ; exits when one is taken
  local p
  for p in "$@"; do port_free "$p" || { echo "$BENCH: port $p is busy" >&2; exit 1; }; done
}
wait_port() {  # PORT PID: until PORT listens, false if PID ends first or after 10 s
  for _ in $(seq 1 100); do
    kill -0 "$2" 2> /dev/null || return 1
    ss -Hltn "sport = :$1" | grep -q . && return 0
    sleep 0.1
  done
  return 1
}
start() {  # LOGFILE command... ; sets LAST, stopped at exit
  "${@:2}" > "$1" 2>&1 &
  LAST=$!
  STARTED+=("$LAST")
}

# The proxies' configurations the proxy benches share: one thread, listening on 127.0.0.1 PORT,
# round robin with keep-alive over the back ends on 127.0.0.1 at BACKEND_PORT...
# Every proxy sends the back ends the same request: the client's, plus X-Forwarded-For with the
# client's address (HAProxy's option forwardfor, nginx's $proxy_add_x_forwarded_for, as in
# shared/bench/peers.sh). Gatehouse's defaults would add the client's port, X-Forwarded-Proto and
# X-ARR-LOG-ID: 171 bytes upstream for wrk's 60-byte request instead of HAProxy's 88.
haproxy_config() {  # PORT BACKEND_PORT...
  local i=0 port
  printf 'global\n  nbthread 1\n  maxconn 9000\ndefaults\n  mode http\n  timeout connect 5s\n'
  printf '  timeout client 60s\n  timeout server 30s\n  timeout http-keep-alive 60s\n'
  printf '  option forwardfor\n  http-reuse always\nfrontend fe\n  bind 127.0.0.1:%s\n' "$1"
  printf '  default_backend cas\nbackend cas\n  balance roundrobin\n'
  for port in "${@:2}"; do i=$((i + 1)); printf '  server cas%s 127.0.0.1:%s\n' "$i" "$port"; done
}
gatehouse_config() {  # PORT BACKEND_PORT...
  local servers="" port
  for port in "${@:2}"; do
    servers="$servers${servers:+, }{ \"address\": \"127.0.0.1\", \"port\": $port }"
  done
  cat << EOF
{
  "listeners": { "http": { "address": "127.0.0.1", "port": $1,
                           "limits": { "max_connections": 20000 } } },
  "farms": { "cas": { "servers": [ $servers ],
                      "load_balancing": { "algorithm": "weighted_round_robin" } } },
  "proxy": { "include_port_in_x_forwarded_for": false, "x_forwarded_proto": false,
             "log_guid_header": "" },
  "rules": [ { "name": "all", "pattern_syntax": "wildcard", "pattern": "*",
               "action": { "type": "route", "farm": "cas" } } ]
}
EOF
}
