#!/usr/bin/env bash
# Runs gatehouse-proxy the way shared/bench/peers.sh measures its peers (kind "custom"): one
# thread, an HTTP and an HTTPS listener, round robin (or least requests) across two back ends
# with keep-alive, sending the back ends what the peers send: X-Forwarded-For with the client's
# address only. It stays in the foreground.
#
#   CUSTOM_START="tests/bench/peers_gatehouse.sh build/proxy/gatehouse-proxy \
#     {HTTP_PORT} {TLS_PORT} {CERT} {KEY} {B1} {B2} {BAL}" peers.sh custom haproxy-1t nginx-1w
set -euo pipefail
[ $# -eq 8 ] || { echo "usage: $0 GATEHOUSE HTTP_PORT TLS_PORT CERT KEY B1 B2 rr|lc" >&2; exit 2; }
gatehouse=$1 http_port=$2 tls_port=$3 cert=$4 key=$5 b1=$6 b2=$7 bal=$8
algorithm=weighted_round_robin
[ "$bal" = lc ] && algorithm=least_requests
dir=$(mktemp -d /tmp/peers-gatehouse.XXXXXX)
cat > "$dir/gatehouse.json" << JSON
{
  "listeners": {
    "http": { "address": "127.0.0.1", "port": $http_port, "limits": { "max_connections": 20000 } },
    "https": { "address": "127.0.0.1", "port": $tls_port, "limits": { "max_connections": 20000 },
               "tls": { "certificates": [ { "names": ["mail.contoso.test"],
                                            "certificate_file": "$cert", "key_file": "$key" } ] } }
  },
  "farms": { "cas": { "servers": [ { "address": "${b1%:*}", "port": ${b1##*:} },
                                   { "address": "${b2%:*}", "port": ${b2##*:} } ],
                      "load_balancing": { "algorithm": "$algorithm" } } },
  "proxy": { "include_port_in_x_forwarded_for": false, "x_forwarded_proto": false,
             "log_guid_header": "" },
  "rules": [ { "name": "all", "pattern_syntax": "wildcard", "pattern": "*",
               "action": { "type": "route", "farm": "cas" } } ]
}
JSON
exec "$gatehouse" --config "$dir/gatehouse.json" --threads 1 --log-level warning
