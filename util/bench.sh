#!/bin/bash
# Benchmarks of the uplink on loopback (wrk), kept in the repo so that
# speed and memory are measured, not guessed:
#
#   1. throughput and latency of signed uplinks through kpn_uplink to a
#      local upstream, against the same proxy without the module's work
#      (kpn_uplink off): the difference is the module's cost;
#   2. worker memory (RSS) before and after the load: a per-request leak
#      shows as growth;
#   3. with BENCH_CALLGRIND=1, instructions per uplink request under
#      callgrind (repeatable, independent of machine load).
#
# Usage: util/bench.sh MODULE_SO      (make bench)
# Env:   BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 32)
set -euo pipefail

module=${1:?usage: $0 MODULE_SO}
root=$(cd "$(dirname "$0")/.." && pwd)
nginx=${NGINX_BIN:-/usr/sbin/nginx}
seconds=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-32}
port=${BENCH_PORT:-18480}
dir=$(mktemp -d /tmp/kpn-bench.XXXXXX)
trap '[ -f "$dir/logs/nginx.pid" ] && kill "$(cat "$dir/logs/nginx.pid")" 2>/dev/null; sleep 0.3; rm -rf "$dir"' EXIT

mkdir -p "$dir/logs" "$dir/conf"

secret='Example-Secret-0123456789-abcdefGH!'
body='[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","bt":1.765739955219e9,"n":"payload","vs":"763d0028"},{"n":"port","v":1.0},{"n":"FCntUp","v":0.0},{"n":"FCntDn","v":1.0},{"n":"LrrRSSI","v":-107.0},{"n":"LrrSNR","v":3.0},{"n":"LrrESP","v":-108.764351},{"n":"DevLrrCnt","v":2.0},{"n":"SpFact","v":8.0},{"n":"SubBand","vs":"G1"},{"n":"Channel","vs":"LC3"},{"n":"ADRbit","v":1.0},{"n":"timeOrigin","vs":"NETWORK"}]'
token=$(printf '%s%s' "$body" "$secret" | sha256sum | cut -d' ' -f1)

cat > "$dir/conf/nginx.conf" <<EOC
load_module $module;
worker_processes 1;
error_log $dir/logs/error.log error;
pid $dir/logs/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    upstream wtg { server 127.0.0.1:$((port + 1)); keepalive 64; }
    server {
        listen 127.0.0.1:$port;
        location = /kpn/uplink {
            kpn_uplink on;
            kpn_uplink_secret "$secret";
            kpn_device_type dragino-lds01 wasd2;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://wtg/iot;
        }
        location = /plain {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://wtg/iot;
        }
    }
    server {
        listen 127.0.0.1:$((port + 1));
        location / { return 204; }
    }
}
EOC

cat > "$dir/post.lua" <<EOL
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Things-Message-Token"] = "$token"
wrk.headers["device-type"] = "dragino-lds01"
EOL

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

if [ "${BENCH_CALLGRIND:-0}" = 1 ]; then
    n=${BENCH_CALLGRIND_REQUESTS:-300}
    sed -i 's/^worker_processes 1;/daemon off; master_process off;/' "$dir/conf/nginx.conf"
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" \
        "$nginx" -p "$dir/" -c "$dir/conf/nginx.conf" -e "$dir/logs/error.log" 2>/dev/null &
    vpid=$!
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/plain" && break; sleep 0.2; done
    for path in plain kpn/uplink; do
        for _ in $(seq $n); do
            curl -s -o /dev/null -X POST "http://127.0.0.1:$port/$path" \
                 -H 'Content-Type: application/json' -H "Things-Message-Token: $token" \
                 -H 'device-type: dragino-lds01' --data-binary "$body"
        done
    done
    kill -QUIT $vpid; wait $vpid || true
    callgrind_annotate --inclusive=yes "$dir/cg.out" 2>/dev/null | grep -E 'PROGRAM TOTALS|ngx_http_kpn_|EVP_|json_|CRYPTO|ngx_http_proxy_handler' | head -25
    exit 0
fi

"$nginx" -p "$dir/" -c "$dir/conf/nginx.conf" -e "$dir/logs/error.log"
sleep 0.5
worker=$(pgrep -P "$(cat "$dir/logs/nginx.pid")" | head -1)

code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/kpn/uplink" \
       -H 'Content-Type: application/json' -H "Things-Message-Token: $token" \
       -H 'device-type: dragino-lds01' --data-binary "$body")
[ "$code" = 204 ] || { echo "sanity request failed: $code"; cat "$dir/logs/error.log"; exit 1; }

echo "== warm-up"
wrk -t1 -c"$conns" -d2s -s "$dir/post.lua" "http://127.0.0.1:$port/kpn/uplink" > /dev/null
rss0=$(rss "$worker")

for path in plain kpn/uplink; do
    echo "== /$path: ${seconds}s, $conns connections, $(printf %s "$body" | wc -c)-byte signed SenML pack"
    wrk -t1 -c"$conns" -d"${seconds}s" --latency -s "$dir/post.lua" "http://127.0.0.1:$port/$path" \
        | grep -E 'Requests/sec|Latency|50%|99%|requests in|Non-2xx'
done

rss1=$(rss "$worker")
echo "== worker RSS: ${rss0} kB after warm-up, ${rss1} kB after the runs (growth $((rss1 - rss0)) kB)"
if grep -E '\[(error|alert|crit|emerg)\]' "$dir/logs/error.log"; then
    echo "errors in the log"; exit 1
fi
