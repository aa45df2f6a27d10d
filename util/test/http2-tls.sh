#!/bin/bash
# HTTP/2 over TLS (listen ... ssl, http2 on), which the real framework's
# HTTP/2 mode (h2c, prior knowledge) does not cover: curl --http2 against an
# nginx >= 1.25.1 with the module, on 127.0.0.1 with a certificate made
# here.  Uplinks with a body in one buffer, in a temp file and without a
# Content-Length (streamed), and a downlink; each must be answered over
# HTTP/2 exactly as over HTTP/1.1.  Prints "N passed, N failed".
#
# Usage: util/test/http2-tls.sh NGINX MODULE
set -u

nginx=$(readlink -f "$1") module=$(readlink -f "$2")
. "$(dirname "$0")/../lib/throwaway-nginx.sh"
tn_init h2tls "$nginx"
dir=$tn_dir

p1=$(tn_free_port) p2=$(tn_free_port)

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null || exit 1

secret='Example-Secret-0123456789-abcdefGH!'

cat > "$dir/conf/nginx.conf" <<EOF
$(tn_main_conf "$module" warn)
daemon on;
master_process off;
events { worker_connections 64; }
http {
    access_log off;
$(tn_http_paths)
    kpn_token_zone zone=kpn:1m;
    server {
        listen 127.0.0.1:$p1 ssl;
        http2 on;
        ssl_certificate $dir/cert.pem;
        ssl_certificate_key $dir/key.pem;
        location = /kpn/uplink {
            kpn_uplink on;
            kpn_uplink_secret "$secret";
            kpn_device_type dragino-lds01 wasd2;
            proxy_pass http://127.0.0.1:$p2/iot;
        }
        location = /kpn/uplink-file {
            client_body_buffer_size 1k;
            kpn_uplink on;
            kpn_uplink_secret "$secret";
            kpn_device_type dragino-lds01 wasd2;
            proxy_pass http://127.0.0.1:$p2/iot;
        }
        location = /downlink {
            kpn_downlink zone=kpn;
            kpn_downlink_keys off;
            kpn_client_id my-client;
            kpn_client_secret my-secret;
            kpn_token_uri /_kpn/token;
            kpn_downlink_uri /_kpn/downlinks;
        }
        location = /_kpn/token { internal; kpn_endpoint token; proxy_pass http://127.0.0.1:$p2/token; }
        location = /_kpn/downlinks { internal; kpn_endpoint api; proxy_pass http://127.0.0.1:$p2/dl\$is_args\$args; }
    }
    server {
        listen 127.0.0.1:$p2;
        location = /iot {
            proxy_pass http://127.0.0.1:$p2/echo;
        }
        location = /echo {
            return 200 "len=\$content_length type=\$content_type\n";
        }
        location = /token {
            default_type application/json;
            return 200 '{"access_token":"tok-h2","expires_in":3600}';
        }
        location = /dl {
            default_type application/vnd.kpnthings.actuator.v1.response+json;
            return 201 '{"result":"queued"}';
        }
    }
}
EOF

tn_start || { echo "http2-tls: nginx did not start"; exit 1; }

passed=0 failed=0

token() { printf '%s%s' "$(cat "$1")" "$secret" | sha256sum | cut -d' ' -f1; }

# the test vector of docs/protocol.md
printf '%s' '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","bt":1.765739955219e9,"n":"payload","vs":"763d0028"},{"n":"port","v":1.0}]' > "$dir/small"
# 120 records: about 2 KB, past client_body_buffer_size 1k
{
    printf '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","bt":1.765739955219e9,"n":"payload","vs":"763d0028"}'
    for i in $(seq 120); do printf ',{"n":"m%d","v":%d.5}' "$i" "$i"; done
    printf ']'
} > "$dir/big"

url=https://localhost:$p1
curl=(curl -sS -k --resolve "localhost:$p1:127.0.0.1" -m 10 -w '\nstatus=%{http_code} proto=%{http_version}')

# NAME EXPECTED-STATUS CURL-ARGS...: the same request over HTTP/1.1 and
# over HTTP/2; the answers must be the same, the second over HTTP/2
case_h2() {
    local name=$1 status=$2
    shift 2
    local a b
    a=$("${curl[@]}" --http1.1 "$@" 2>&1)
    b=$("${curl[@]}" --http2 "$@" 2>&1)
    if [[ $a == *"status=$status proto=1.1" && $b == "${a%proto=1.1}proto=2" ]]; then
        passed=$((passed + 1)); echo "ok   $name"
    else
        failed=$((failed + 1)); echo "FAIL $name"
        echo "     HTTP/1.1: ${a//$'\n'/ | }"; echo "     HTTP/2:   ${b//$'\n'/ | }"
    fi
}

case_h2 "uplink, body in one buffer: the envelope reaches the upstream" 200 \
    -H 'Content-Type: application/json' -H "Things-Message-Token: $(token "$dir/small")" \
    -H 'device-type: dragino-lds01' --data-binary @"$dir/small" "$url/kpn/uplink"

case_h2 "uplink, body in a temp file" 200 \
    -H 'Content-Type: application/json' -H "Things-Message-Token: $(token "$dir/big")" \
    -H 'device-type: dragino-lds01' --data-binary @"$dir/big" "$url/kpn/uplink-file"

case_h2 "uplink streamed without Content-Length (chunked over HTTP/1.1)" 200 \
    -X POST -T "$dir/big" -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' \
    -H "Things-Message-Token: $(token "$dir/big")" -H 'device-type: dragino-lds01' \
    "$url/kpn/uplink-file"

case_h2 "a bad token is the same JSON 401" 401 \
    -H 'Content-Type: application/json' -H 'Things-Message-Token: 00' \
    -H 'device-type: dragino-lds01' --data-binary @"$dir/small" "$url/kpn/uplink"

case_h2 "downlink" 201 \
    -H 'Content-Type: application/json' \
    --data-binary '{"devEUI":"0059ac00001b3461","port":2,"payload":"0a0b"}' "$url/downlink"

if grep -E '\[(alert|crit|emerg)\]' "$dir/logs/error.log"; then
    failed=$((failed + 1)); echo "FAIL the error log has alerts"
fi

echo "http2-tls: $passed passed, $failed failed"
[ $failed = 0 ]
