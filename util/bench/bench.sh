#!/bin/bash
# Benchmarks of the uplink and the downlink on loopback, kept in the repo so
# that speed and memory are measured, not guessed.  From one run:
#
#   1. throughput and latency (wrk, p50/p99) of signed uplinks through
#      kpn_uplink, next to the same proxy_pass without the module (/plain),
#      and of downlinks with a cached token through kpn_downlink, next to a
#      plain proxy_pass POST of the same body to the same stand-in
#      (/plain-downlink); BENCH_ROUNDS rounds of each, the module's run
#      directly after its baseline's, and the median ratio of the rounds
#      that nothing disturbed.  With each rate the worker's CPU time per
#      request (utime + stime over the requests), how busy the worker was
#      (below 95% the client or the machine limited the run, not the
#      worker) and the steal time of its CPU (over 2%: the hypervisor
#      took the CPU); a round with either is marked disturbed;
#   2. worker memory (RSS) before and after BENCH_RSS_UPLINKS uplinks and
#      BENCH_RSS_DOWNLINKS downlinks: a per-request leak shows as growth;
#      The uplink is measured once more in a location that counts into a
#      kpn_metrics_zone (/kpn/uplink-metrics): the counters' cost;
#   3. instructions per request under callgrind (repeatable, independent of
#      machine load; OpenSSL's SHA-256 runs without the SHA extensions
#      there): the whole worker per request for each path, and the
#      parts of the module's work.
#
# The Lua peer (util/bench/bench-lua-peer.lua, lua-nginx and cjson from Debian:
# what a user would write instead of the module) takes the same pack and
# sends the same envelope on through the same proxy_pass (/lua/uplink); its
# rounds run next to the module's, module then peer, and its callgrind
# count next to the module's.
#
# One nginx worker pinned to CPU BENCH_WORKER_CPU (worker_cpu_affinity),
# wrk on CPU BENCH_WRK_CPU (taskset); the stand-ins (Withthegrid answering
# 204, the identity platform's token, KPN's actuator answering 201) are
# servers of the same worker, over keepalive connections.  Every load loop
# is bounded in count and time; loopback only.
#
# Usage: util/bench/bench.sh MODULE_SO      (make bench)
# Env:   BENCH_SECONDS (3), BENCH_ROUNDS (9), BENCH_CONNECTIONS (32),
#        BENCH_PORT (18480),
#        BENCH_WORKER_CPU (0), BENCH_WRK_CPU (1),
#        BENCH_RSS_UPLINKS (500000), BENCH_RSS_DOWNLINKS (200000),
#        BENCH_CALLGRIND (1; 0 skips it), BENCH_CALLGRIND_REQUESTS (500),
#        BENCH_ONLY (uplink or downlink: the throughput runs of one path;
#        callgrind: the callgrind counts only), BENCH_LUA (1; 0: no Lua
#        peer),
#        BENCH_PERF (1: perf record of the worker during each run, its top
#        symbols printed), BENCH_KEEP (1: the work directory is kept)
set -euo pipefail

module=$(realpath "${1:?usage: $0 MODULE_SO}")
seconds=${BENCH_SECONDS:-3}
rounds=${BENCH_ROUNDS:-9}
conns=${BENCH_CONNECTIONS:-32}
port=${BENCH_PORT:-18480}
wcpu=${BENCH_WORKER_CPU:-0}
ccpu=${BENCH_WRK_CPU:-1}
rss_up=${BENCH_RSS_UPLINKS:-500000}
rss_down=${BENCH_RSS_DOWNLINKS:-200000}
cg=${BENCH_CALLGRIND:-1}
cg_n=${BENCH_CALLGRIND_REQUESTS:-500}
only=${BENCH_ONLY:-}
lua=${BENCH_LUA:-1}
root=$(cd "$(dirname "$0")/../.." && pwd)
base="http://127.0.0.1:$port"

TN_KEEP=${BENCH_KEEP:-}
. "$root/util/lib/throwaway-nginx.sh"
tn_init bench
dir=$tn_dir nginx=$tn_nginx

secret='Example-Secret-0123456789-abcdefGH!'
body='[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","bt":1.765739955219e9,"n":"payload","vs":"763d0028"},{"n":"port","v":1.0},{"n":"FCntUp","v":0.0},{"n":"FCntDn","v":1.0},{"n":"LrrRSSI","v":-107.0},{"n":"LrrSNR","v":3.0},{"n":"LrrESP","v":-108.764351},{"n":"DevLrrCnt","v":2.0},{"n":"SpFact","v":8.0},{"n":"SubBand","vs":"G1"},{"n":"Channel","vs":"LC3"},{"n":"ADRbit","v":1.0},{"n":"timeOrigin","vs":"NETWORK"}]'
token=$(printf '%s%s' "$body" "$secret" | sha256sum | cut -d' ' -f1)
dl_body='{"devEUI":"0059ac00001b3461","port":2,"payload":"0a0b"}'
dl_key='bench-downlink-key-0123456789'
echo "$dl_key" > "$dir/conf/downlink.keys"
chmod 0600 "$dir/conf/downlink.keys"    # as in production: no warning at nginx -t

lua_modules=
lua_location=
if [ "$lua" = 1 ]; then
    lua_modules="load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;"
    lua_location="location = /lua/uplink {
            set \$kpn_secret '$secret';
            access_by_lua_file $root/util/bench/bench-lua-peer.lua;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_pass http://wtg/iot;
        }"
fi

cat > "$dir/conf/nginx.conf" <<EOC
$lua_modules
$(tn_main_conf "$module" error)
worker_processes 1;
worker_cpu_affinity 1$(printf '%*s' "$wcpu" '' | tr ' ' 0);
events { worker_connections 1024; }
http {
    access_log off;
$(tn_http_paths)
    kpn_token_zone zone=kpn:1m;
    kpn_metrics_zone zone=m:1m;
    upstream wtg { server 127.0.0.1:$((port + 1)); keepalive 64; }
    upstream kpn { server 127.0.0.1:$((port + 1)); keepalive 64; }
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
        location = /kpn/uplink-metrics {
            kpn_uplink on;
            kpn_metrics_count zone=m;
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
        $lua_location
        location = /kpn/downlink {
            kpn_downlink zone=kpn;
            kpn_downlink_keys $dir/conf/downlink.keys;
            kpn_client_id bench-client;
            kpn_client_secret bench-client-secret;
            kpn_token_uri /_kpn/token;
            kpn_downlink_uri /_kpn/downlinks;
        }
        location = /_kpn/token {
            internal;
            kpn_endpoint token;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://kpn/token;
        }
        location = /_kpn/downlinks {
            internal;
            kpn_endpoint api;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://kpn/api/actuator/downlinks\$is_args\$args;
        }
        location = /plain-downlink {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://kpn/api/actuator/downlinks\$is_args\$args;
        }
    }
    server {
        listen 127.0.0.1:$((port + 1));
        client_header_buffer_size 4k;
        location / { return 204; }
        location = /token {
            default_type application/json;
            return 200 '{"access_token":"bench-access-token","token_type":"Bearer","expires_in":86400}';
        }
        location = /api/actuator/downlinks {
            default_type application/json;
            return 201 '{"result":"queued"}';
        }
    }
}
EOC

# the wrk scripts; with BENCH_MAX set, a run stops after that many answers
# (wrk's -d bounds it in time)
wrk_script() {
    cat <<EOL
wrk.method = "POST"
wrk.body = '$1'
wrk.headers["Content-Type"] = "application/json"
$2
local max = tonumber(os.getenv("BENCH_MAX") or "")
if max then
    local n = 0
    response = function(status, headers, body)
        n = n + 1
        if n >= max then wrk.thread:stop() end
    end
end
EOL
}

wrk_script "$body" "wrk.headers[\"Things-Message-Token\"] = \"$token\"
wrk.headers[\"device-type\"] = \"dragino-lds01\"" > "$dir/uplink.lua"
wrk_script "$dl_body" "wrk.headers[\"Authorization\"] = \"Bearer $dl_key\"" \
    > "$dir/downlink.lua"

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

echo "== machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo);" \
     "$("$nginx" -v 2>&1 | sed 's/.*: //'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== nginx worker on CPU $wcpu, wrk -t1 -c$conns on CPU $ccpu," \
     "$rounds rounds of ${seconds}s runs; uplink: $(printf %s "$body" | wc -c)-byte signed pack" \
     "(13 records); downlink: $(printf %s "$dl_body" | wc -c)-byte command, cached token"

tn_start
sleep 0.5
worker=$(pgrep -P "$(cat "$dir/logs/nginx.pid")" | head -1)

check() {   # path, expected status, curl arguments
    local path=$1 want=$2 code
    shift 2
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base$path" "$@")
    if [ "$code" != "$want" ]; then
        echo "sanity request $path failed: $code (expected $want)"
        cat "$dir/logs/error.log"
        exit 1
    fi
}

up_args=(-H 'Content-Type: application/json' -H "Things-Message-Token: $token"
         -H 'device-type: dragino-lds01' --data-binary "$body")
dl_args=(-H 'Content-Type: application/json' -H "Authorization: Bearer $dl_key"
         --data-binary "$dl_body")

check /kpn/uplink 204 "${up_args[@]}"
check /plain 204 "${up_args[@]}"
check /kpn/uplink-metrics 204 "${up_args[@]}"
check /kpn/downlink 201 "${dl_args[@]}"     # fetches and caches the token
check /plain-downlink 201 "${dl_args[@]}"
if [ "$lua" = 1 ]; then
    check /lua/uplink 204 "${up_args[@]}"
fi

wrk_run() {   # script, path, seconds, extra wrk arguments
    taskset -c "$ccpu" wrk -t1 -c"$conns" -d"$3s" --latency "${@:4}" \
        -s "$dir/$1.lua" "$base$2"
}

# "rate p50 p99 requests non2xx" from wrk's output
wrk_parse() {
    awk '
        function ms(v) {
            if (v ~ /us$/) return v / 1000;
            if (v ~ /ms$/) return v + 0;
            if (v ~ /s$/) return v * 1000;
            return v;
        }
        / 50% / { p50 = ms($2) }
        / 99% / { p99 = ms($2) }
        /requests in/ { n = $1 }
        /Non-2xx/ { bad = $NF }
        /Requests\/sec/ { rate = $2 }
        END { printf "%.0f %.2f %.2f %d %d\n", rate, p50, p99, n, bad }'
}

declare -A rate p50 p99 cpu busy stl

# the worker's CPU time (utime + stime, clock ticks) and its CPU's steal time
ticks() { awk '{ print $14 + $15 }' "/proc/$worker/stat"; }
steal() { awk -v c="cpu$wcpu" '$1 == c { print $9 }' /proc/stat; }
hz=$(getconf CLK_TCK)

measure() {   # name, script, path
    local out ppid= t0 t1 s0 s1
    if [ "${BENCH_PERF:-0}" = 1 ]; then
        perf record -q -e cpu-clock -F 1999 -g -p "$worker" -o "$dir/perf-$1.data" \
            -- sleep "$seconds" 2> /dev/null &
        ppid=$!
    fi
    t0=$(ticks)
    s0=$(steal)
    out=$(wrk_run "$2" "$3" "$seconds" | wrk_parse)
    t1=$(ticks)
    s1=$(steal)
    if [ -n "$ppid" ]; then
        wait "$ppid" || true
        perf report -i "$dir/perf-$1.data" --no-children --sort dso,symbol \
            --stdio 2> /dev/null | grep -E '^ +[0-9]' | head -40 > "$dir/perf-$1.txt" \
            || true
    fi
    read -r rate[$1] p50[$1] p99[$1] n bad <<< "$out"
    if [ "$bad" != 0 ]; then
        echo "$3: $bad answers were not 2xx"
        exit 1
    fi

    # the worker's CPU time per request, and how busy it was: a worker
    # below ~95% was not the bottleneck (the client or the machine was)
    cpu[$1]=$(awk -v t=$((t1 - t0)) -v n="$n" -v hz="$hz" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
    busy[$1]=$(awk -v t=$((t1 - t0)) -v s="$seconds" -v hz="$hz" 'BEGIN { printf "%.0f", t / hz / s * 100 }')
    stl[$1]=$(awk -v t=$((s1 - s0)) -v s="$seconds" -v hz="$hz" 'BEGIN { printf "%.0f", t / hz / s * 100 }')

    printf '   %-16s %7s requests/s   p50 %5s ms   p99 %5s ms   worker %5s us/request, %3s%% busy, steal %s%%\n' \
        "$3" "${rate[$1]}" "${p50[$1]}" "${p99[$1]}" "${cpu[$1]}" "${busy[$1]}" "${stl[$1]}"
    if [ -f "$dir/perf-$1.txt" ]; then
        sed 's/^/      /' "$dir/perf-$1.txt"
    fi
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
median() {
    tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 }
        END { if (NR) printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# a pair is disturbed when either run's worker was below 95% busy or its
# CPU had more than 2% steal: its rates then say little
disturbed() { [ "${busy[$1]}" -lt 95 ] || [ "${stl[$1]}" -gt 2 ]; }

compare() {   # label, script, plain path, module path[, baseline's name]
    local r rr wt all_rr= all_wt= ok_rr= ok_wt= n_ok=0 mark
    local pp50= pp99= mp50= mp99= bname=${5:-plain proxy}
    cmp_base_rates=
    cmp_all_base_rates=
    echo "== $1: $rounds rounds of the $bname, then the module, ${seconds}s each"
    for ((r = 1; r <= rounds; r++)); do
        measure base "$2" "$3"
        measure mod "$2" "$4"
        rr=$(ratio "${rate[mod]}" "${rate[base]}")
        wt=$(ratio "${cpu[base]}" "${cpu[mod]}")
        all_rr="$all_rr $rr"
        all_wt="$all_wt $wt"
        cmp_all_base_rates="$cmp_all_base_rates ${rate[base]}"
        pp50="$pp50 ${p50[base]}"; pp99="$pp99 ${p99[base]}"
        mp50="$mp50 ${p50[mod]}"; mp99="$mp99 ${p99[mod]}"
        mark=
        if disturbed base || disturbed mod; then
            mark=" (disturbed)"
        else
            ok_rr="$ok_rr $rr"
            ok_wt="$ok_wt $wt"
            cmp_base_rates="$cmp_base_rates ${rate[base]}"
            n_ok=$((n_ok + 1))
        fi
        echo "   round $r: module / ${bname% *} ${rr}x, worker time ${wt}x$mark"
    done
    if [ "$n_ok" -eq 0 ]; then
        cmp_base_rates=$cmp_all_base_rates
    fi
    if [ "$n_ok" -gt 0 ]; then
        echo "   $1 / $bname: $(median <<< "$ok_rr")x" \
             "(median of $n_ok undisturbed rounds; worker time $(median <<< "$ok_wt")x)"
    else
        echo "   $1 / $bname: $(median <<< "$all_rr")x" \
             "(median of all rounds, every one disturbed; worker time $(median <<< "$all_wt")x)"
    fi
    echo "   p50 $(median <<< "$mp50") ms vs $(median <<< "$pp50") ms," \
         "p99 $(median <<< "$mp99") ms vs $(median <<< "$pp99") ms (medians: module vs ${bname% *})"
}

if [ "$only" != callgrind ]; then
echo "== warm-up (2s each)"
for s in uplink:/kpn/uplink uplink:/plain downlink:/kpn/downlink \
         downlink:/plain-downlink; do
    wrk_run "${s%%:*}" "${s#*:}" 2 > /dev/null
done
if [ "$lua" = 1 ]; then
    wrk_run uplink /lua/uplink 2 > /dev/null
fi
fi

if [ -z "$only" ] || [ "$only" = uplink ]; then
    compare uplink uplink /plain /kpn/uplink
    plain_rates=$cmp_base_rates
    if [ "$lua" = 1 ]; then
        compare "uplink next to the Lua peer (lua-nginx, cjson)" uplink \
            /lua/uplink /kpn/uplink "Lua peer"
        # what the same proxy_pass without any work does against the peer:
        # the most a module that proxies could show in the ratio above
        if [ -n "$plain_rates" ] && [ -n "$cmp_base_rates" ]; then
            echo "   the plain proxy / Lua peer: $(ratio "$(median <<< "$plain_rates")" \
                 "$(median <<< "$cmp_base_rates")")x (median rates of the rounds counted" \
                 "above: the most a module that proxies could show against the peer)"
        fi
    fi
    echo "== uplink counted by kpn_metrics_count (the same location, counters on; one run)"
    measure upm uplink /kpn/uplink-metrics
    measure up uplink /kpn/uplink
    echo "   counted / not counted:  $(ratio "${rate[upm]}" "${rate[up]}")x" \
         "(worker time $(ratio "${cpu[upm]}" "${cpu[up]}")x per request)"
fi

if [ -z "$only" ] || [ "$only" = downlink ]; then
    compare "downlink (cached token)" downlink /plain-downlink /kpn/downlink
fi

if [ "$only" = callgrind ]; then
    rss_up=0
    rss_down=0
fi

# memory: a fixed number of requests (the wrk script stops its thread at
# that many answers; wrk is then interrupted once the worker is idle),
# bounded in time too
rss_run() {   # script, path, requests
    local pid t0 t1
    # wrk itself in the background (taskset execs it): the signal below
    # must reach wrk, not a subshell waiting for it
    BENCH_MAX=$3 taskset -c "$ccpu" wrk -t1 -c"$conns" -d300s \
        -s "$dir/$1.lua" "$base$2" > "$dir/rss.out" &
    pid=$!
    sleep 2
    t0=$(ticks)
    while kill -0 "$pid" 2> /dev/null; do
        sleep 1
        t1=$(ticks)
        if [ $((t1 - t0)) -lt $((hz / 20)) ]; then
            # wrk's main thread sleeps out -d unless the signal reaches
            # it (not its load thread): send it until wrk has gone
            for _ in $(seq 20); do
                kill -INT "$pid" 2> /dev/null || break
                sleep 0.5
            done
            break
        fi
        t0=$t1
    done
    wait "$pid" || true
    awk '/requests in/ { print $1 }' "$dir/rss.out"
}

if [ "$rss_up" -gt 0 ] || [ "$rss_down" -gt 0 ]; then
    rss0=$(rss "$worker")
    done_up=0
    done_down=0
    if [ "$rss_up" -gt 0 ]; then
        done_up=$(rss_run uplink /kpn/uplink "$rss_up")
    fi
    if [ "$rss_down" -gt 0 ]; then
        done_down=$(rss_run downlink /kpn/downlink "$rss_down")
    fi
    rss1=$(rss "$worker")
    echo "== worker RSS: $rss0 kB before $done_up uplinks and $done_down downlinks," \
         "$rss1 kB after (growth $((rss1 - rss0)) kB)"
fi

if grep -E '\[(error|alert|crit|emerg)\]' "$dir/logs/error.log"; then
    echo "errors in the log"; exit 1
fi

tn_stop

[ "$cg" = 1 ] || exit 0

# callgrind: one nginx process (no master), N requests of each path over one
# keepalive connection, the instructions of the event loop (everything a
# request costs, the stand-ins' share included) divided by N
echo "== callgrind: instructions per request ($cg_n requests of each, one connection)"
# (the Lua modules are loaded for the Lua peer's count only: they cost
# every request a little, and the other counts are compared across runs)
sed -e 's/^worker_processes 1;/daemon off; master_process off;/' \
    -e '/^worker_cpu_affinity/d' "$dir/conf/nginx.conf" > "$dir/conf/cg-lua.conf"
sed -e '/^load_module .*\(ndk_http\|ngx_http_lua\)_module.so;$/d' \
    -e '/location = \/lua\/uplink {/,/^        }$/d' \
    "$dir/conf/cg-lua.conf" > "$dir/conf/cg.conf"

callgrind() {   # name, path, curl arguments
    local name=$1 path=$2 vpid i urls=() conf=cg
    shift 2
    [ "$name" = lua ] && conf=cg-lua
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg-$name.out" \
        "$nginx" -p "$dir/" -c "$dir/conf/$conf.conf" -e "$dir/logs/error.log" \
        2> "$dir/logs/valgrind-$name.log" &
    vpid=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null "$base/plain" 2>/dev/null && break
        sleep 0.2
    done
    if [ "$name" = dl ]; then
        # the token fetch of a new process, before the counted requests
        curl -s -o /dev/null -X POST "$base$path" "$@"
    fi
    for ((i = 0; i < cg_n; i++)); do urls+=("$base$path"); done
    curl -s -X POST "$@" "${urls[@]}" > /dev/null
    kill -QUIT "$vpid"
    wait "$vpid" || true
}

cg_per() {   # name, function: inclusive instructions of function / N
    callgrind_annotate --inclusive=yes --threshold=100 "$dir/cg-$1.out" 2>/dev/null \
        | awk -v f="$2" -v n="$cg_n" '
            $0 ~ ("[ :]" f "( |$)") {
                gsub(",", "", $1); if ($1 + 0 > best) best = $1 + 0 }
            END { printf "%.0f", best / n }'
}

callgrind plain /plain "${up_args[@]}"
callgrind up /kpn/uplink "${up_args[@]}"
if [ "$lua" = 1 ]; then
    callgrind lua /lua/uplink "${up_args[@]}"
fi
callgrind upm /kpn/uplink-metrics "${up_args[@]}"
callgrind plain_dl /plain-downlink "${dl_args[@]}"
callgrind dl /kpn/downlink "${dl_args[@]}"

loop=ngx_process_events_and_timers
declare -A ins
ins[lua]=
for p in plain up upm plain_dl dl $([ "$lua" = 1 ] && echo lua); do
    ins[$p]=$(cg_per $p $loop)
done
printf '   %-16s %9s instructions per request\n' \
    /plain "${ins[plain]}" /kpn/uplink "${ins[up]}" \
    /kpn/uplink-metrics "${ins[upm]}" \
    /plain-downlink "${ins[plain_dl]}" /kpn/downlink "${ins[dl]}"
if [ "$lua" = 1 ]; then
    printf '   %-16s %9s instructions per request (the module: %s of it)\n' \
        /lua/uplink "${ins[lua]}" \
        "$(awk -v a="${ins[up]}" -v b="${ins[lua]}" 'BEGIN { printf "%.2f", a / b }')"
fi
echo "   counted by kpn_metrics_count: $((ins[upm] - ins[up])) more per uplink" \
     "($(awk -v a="$((ins[upm] - ins[up]))" -v b="${ins[up]}" 'BEGIN { printf "%.2f%%", a / b * 100 }') of the uplink's)"
echo "   the uplink costs $((ins[up] - ins[plain])) more than the plain proxy," \
     "the downlink $((ins[dl] - ins[plain_dl])) more; of the uplink (inclusive):"
for f in ngx_http_kpn_auth_message_token ngx_http_kpn_senml_parse \
         ngx_http_kpn_device_pack ngx_http_kpn_senml_envelope ngx_http_kpn_body_collect \
         ngx_http_kpn_body_replace; do
    printf '     %-34s %7s\n' "$f" "$(cg_per up $f)"
done
echo "   of the downlink (inclusive):"
for f in ngx_http_kpn_command_parse json_loadb ngx_http_kpn_subrequest_post; do
    printf '     %-34s %7s\n' "$f" "$(cg_per dl $f)"
done
