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
