#!/usr/bin/env bash
# gatehouse-load's command line: each kind of bad input exits with its own code and names what
# and where (docs/load.md, "Exit codes"); merge combines results files.
# Usage: cli_test.sh PATH/TO/gatehouse-load
set -uo pipefail
load=${1:?usage: cli_test.sh GATEHOUSE_LOAD}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

expect() {  # expected_code message_regex description -- command...
  local code=$1 pattern=$2 what=$3
  shift 4
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -eq "$code" ] && echo "$out" | grep -Eq -- "$pattern"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $what: exit $rc (wanted $code), output:"
    echo "$out" | sed 's/^/    /'
  fi
}

# A port nothing listens on: bind one, then release it.
port=$(( (RANDOM % 20000) + 30000 ))
while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done

printf 'GET /\nPOST\n' > "$work/bad.txt"
printf 'GET /\n' > "$work/good.txt"
printf '#Fields: cs-method cs-uri-stem\nGET\n' > "$work/bad.log"

expect 2 "--duration: invalid duration 'soon'" "bad duration" -- \
  "$load" run --target "http://127.0.0.1:$port" --urls "$work/good.txt" -d soon
expect 2 "unknown option|The following argument" "unknown option" -- \
  "$load" run --frobnicate
expect 3 "unknown profile 'imap'" "unknown profile" -- \
  "$load" run --target "http://127.0.0.1:$port" --profile imap -n 1
expect 4 "bad.txt:2: expected METHOD URL" "malformed URL list" -- \
  "$load" run --target "http://127.0.0.1:$port" --urls "$work/bad.txt" -n 1
expect 4 "bad.log:2: expected 2 fields" "malformed W3C log" -- \
  "$load" run --target "http://127.0.0.1:$port" --log "$work/bad.log" -n 1
expect 5 "cannot connect to http://127.0.0.1:$port" "unreachable target" -- \
  "$load" run --target "http://127.0.0.1:$port" --urls "$work/good.txt" -n 1
expect 2 "needs a bound" "unbounded run" -- \
  "$load" run --target "http://127.0.0.1:$port" --urls "$work/good.txt"
expect 4 "missing.json: cannot open" "merge of a missing file" -- \
  "$load" merge "$work/missing.json"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
