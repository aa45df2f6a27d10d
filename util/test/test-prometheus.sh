#!/bin/bash
# make test-prometheus: the kpn_metrics exposition checked by the Prometheus
# tools themselves.
#
#   1. promtool check rules/config on examples/kpn-alerts.yml and
#      examples/prometheus.yml;
#   2. a test nginx (loopback, random ports) takes 3 signed uplinks and 2
#      with a bad token; its /metrics passes `promtool check metrics`;
#   3. a real Prometheus server (Debian's binary, in the foreground of this
#      script, temporary config and storage, scrape interval 1 s) scrapes
#      it, and its HTTP API returns kpn_uplinks_total{result="ok"} = 3 and
#      {result="bad_token"} = 2.
#
# Usage: util/test/test-prometheus.sh MODULE_SO
# Every wait is bounded (PROM_TIMEOUT seconds, default 60).
set -euo pipefail

module=${1:?usage: $0 MODULE_SO}
root=$(cd "$(dirname "$0")/../.." && pwd)
timeout=${PROM_TIMEOUT:-60}
. "$root/util/lib/throwaway-nginx.sh"
tn_init prom
dir=$tn_dir
prom_pid=

cleanup() {
    [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null
    tn_cleanup
}
trap cleanup EXIT

fail() {
    echo "test-prometheus: FAIL: $*" >&2
    [ -f "$dir/prometheus.log" ] && tail -20 "$dir/prometheus.log" >&2
    [ -f "$dir/logs/error.log" ] && tail -20 "$dir/logs/error.log" >&2
    exit 1
}

echo "test-prometheus: 1. promtool check rules, check config"
promtool check rules "$root/examples/kpn-alerts.yml" || fail "kpn-alerts.yml"
promtool check config "$root/examples/prometheus.yml" || fail "prometheus.yml"

port=$(tn_free_port)
prom_port=$(tn_free_port)
mkdir -p "$dir/data"

secret='Example-Secret-0123456789-abcdefGH!'
body='[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","bt":1.765739955219e9,"n":"payload","vs":"763d0028"},{"n":"port","v":1.0}]'
token=$(printf '%s%s' "$body" "$secret" | sha256sum | cut -d' ' -f1)

cat > "$dir/conf/nginx.conf" <<EOC
$(tn_main_conf "$module" info)
worker_processes 2;
events { worker_connections 64; }
http {
    access_log off;
$(tn_http_paths)
    kpn_metrics_zone zone=m:1m;
    kpn_metrics_count zone=m;
    server {
        listen 127.0.0.1:$port;
        location = /kpn/uplink {
            kpn_uplink on;
            kpn_uplink_secret "$secret";
            kpn_device_type dragino-lds01 wasd2;
            proxy_pass http://127.0.0.1:$port/wtg;
        }
        location = /wtg {
            return 204;
        }
        location = /metrics {
            kpn_metrics;
            allow 127.0.0.1;
            deny all;
        }
    }
}
EOC

tn_start || fail "nginx did not start"

uplink() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
        -H 'Content-Type: application/json' -H "Things-Message-Token: $1" \
        -H 'device-type: dragino-lds01' --data-binary "$body" \
        "http://127.0.0.1:$port/kpn/uplink"
}

echo "test-prometheus: 2. uplinks, then promtool check metrics"
for i in 1 2 3; do
    [ "$(uplink "$token")" = 204 ] || fail "signed uplink $i not forwarded"
done
for i in 1 2; do
    [ "$(uplink "$(printf '0%.0s' {1..64})")" = 401 ] || fail "bad-token uplink $i not refused"
done

curl -sf --max-time 5 -o "$dir/metrics.txt" -D "$dir/metrics.headers" \
    "http://127.0.0.1:$port/metrics" || fail "GET /metrics"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$dir/metrics.headers" \
    || fail "the exposition's Content-Type: $(grep -i '^content-type' "$dir/metrics.headers")"
promtool check metrics < "$dir/metrics.txt" || fail "promtool check metrics"
echo "  promtool check metrics: ok ($(grep -vc '^#' "$dir/metrics.txt") samples)"

echo "test-prometheus: 3. a Prometheus server scrapes it (127.0.0.1:$prom_port)"
cat > "$dir/prometheus.yml" <<EOC
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: kpn
    metrics_path: /metrics
    static_configs:
      - targets: ["127.0.0.1:$port"]
EOC

prometheus --config.file="$dir/prometheus.yml" \
    --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$prom_port" \
    > "$dir/prometheus.log" 2>&1 &
prom_pid=$!

query() {
    curl -sf --max-time 2 -G "http://127.0.0.1:$prom_port/api/v1/query" \
        --data-urlencode "query=$1" 2>/dev/null \
        | perl -MJSON::PP -0777 -ne '
            my $r = eval { decode_json($_) } or exit;
            my $v = $r->{data}{result}[0]{value}[1];
            print defined $v ? $v : "";'
}

deadline=$((SECONDS + timeout))
ok= bad=
while [ $SECONDS -lt $deadline ]; do
    kill -0 "$prom_pid" 2>/dev/null || fail "prometheus exited"
    ok=$(query 'kpn_uplinks_total{result="ok"}' || true)
    bad=$(query 'kpn_uplinks_total{result="bad_token"}' || true)
    [ "$ok" = 3 ] && [ "$bad" = 2 ] && break
    sleep 1
done

[ "$ok" = 3 ] || fail "Prometheus has kpn_uplinks_total{result=\"ok\"} = '$ok', want 3"
[ "$bad" = 2 ] || fail "Prometheus has kpn_uplinks_total{result=\"bad_token\"} = '$bad', want 2"

up=$(query 'up{job="kpn"}' || true)
[ "$up" = 1 ] || fail "up{job=\"kpn\"} = '$up'"

echo "  Prometheus API: kpn_uplinks_total{result=\"ok\"} = $ok, {result=\"bad_token\"} = $bad, up = $up"
echo "test-prometheus: PASS"
