#!/bin/sh
# The HTML reports opened in a real browser: Debian's headless Chromium loads the report of a
# small scenario run (a timeline with a health action, per-server bars, a failed client-script
# step), the report of gatehouse-load results, and a comparison of two load results, and the DOM
# it ends with must show that the page script ran without errors and that every chart was parsed
# as SVG with its series drawn. A copy with a broken script must be caught, or the checks could
# not fail.
#
#   report_chromium_test.sh GATEHOUSE_EXECUTABLE DATA_DIR
set -u

gatehouse=$1
data=$2
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

browser=$(command -v chromium || true)
if [ -z "$browser" ]; then
    echo "FAIL: chromium is not installed; 'make test' installs it (apt-get install chromium)"
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$gatehouse" report "$data/report-run.json" --html "$work/run.html" || fail "gatehouse report (run)"
"$gatehouse" report "$data/load-results.json" --html "$work/load.html" ||
    fail "gatehouse report (load results)"
"$gatehouse" report "$data/load-results.json" --compare "$data/load-results.json" \
    --html "$work/compare.html" || fail "gatehouse report --compare (load results)"
# The comparison page, with a script that throws after the page's own.
sed 's|</body>|<script>no_such_function();</script></body>|' "$work/compare.html" \
    > "$work/broken.html"
[ "$failures" -eq 0 ] || exit 1

# Loads a page and writes the DOM after its scripts ran; no network, no profile left behind.
dump_dom() {
    timeout 30 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --no-first-run --no-zygote --single-process --user-data-dir="$work/profile-$1" \
        --dump-dom "file://$work/$1.html" > "$work/$1.dom" 2> "$work/$1.log"
}

# Two browsers at a time (two cores).
dump_dom run & first=$!
dump_dom load & second=$!
wait "$first" || fail "run.html: chromium exited with an error: $(tail -n 3 "$work/run.log")"
wait "$second" || fail "load.html: chromium exited with an error: $(tail -n 3 "$work/load.log")"
dump_dom broken ||
    fail "broken.html: chromium exited with an error: $(tail -n 3 "$work/broken.log")"

root() { grep -o '<html[^>]*>' "$work/$1.dom" | head -n 1; }
count() { grep -o "$2" "$work/$1.dom" | wc -l; }

# check PAGE CHARTS SERIES BARS: the page's own record (data-*) and the DOM itself agree with
# what the report holds.
check() {
    page=$1
    tag=$(root "$page")
    case "$tag" in *'data-ready="1"'*) ;; *) fail "$page: the script did not finish: $tag" ;; esac
    case "$tag" in *data-script-error*) fail "$page: script error: $tag" ;; esac
    case "$tag" in *"data-charts=\"$2\""*) ;; *) fail "$page: expected $2 charts: $tag" ;; esac
    case "$tag" in *"data-series=\"$3\""*) ;; *) fail "$page: expected $3 series: $tag" ;; esac
    case "$tag" in *"data-bars=\"$4\""*) ;; *) fail "$page: expected $4 bars: $tag" ;; esac
    [ "$(count "$page" '<svg[^>]*class="chart"')" -eq "$2" ] || fail "$page: <svg> charts in DOM"
    [ "$(count "$page" '<polyline class="series"')" -eq "$3" ] || fail "$page: series in the DOM"
}

# Scenario run: failover-healthcheck and p6-owa-login-loop each draw traffic (requests),
# latency (p50, p99) and requests per server (bars over 45 + 1 seconds, two servers at first).
check run 6 6 63
[ "$(count run '<g class="marker">')" -eq 3 ] || fail "run: the health action on its 3 charts"
grep -q '<details class="trace" open="">' "$work/run.dom" ||
    fail "run: the failed trace is not open"
# Load results: traffic (requests, 401, 404), latency (p50, p99), schedule lag (p50, p99).
check load 3 7 0
grep -q '<caption>Per step or URL</caption>' "$work/load.dom" || fail "load: no per-URL table"

# The broken copy: its charts still parse, and the error is on the page for the checks to see.
case "$(root broken)" in
    *data-script-error*) ;;
    *) fail "broken: a throwing script was not recorded: $(root broken)" ;;
esac
[ "$(count broken '<svg[^>]*class="chart"')" -eq 4 ] || fail "broken: the comparison's 4 charts"

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed; DOMs were in $work"
    exit 1
fi
echo "OK: scenario, load and comparison reports render in $("$browser" --version 2>/dev/null)"
