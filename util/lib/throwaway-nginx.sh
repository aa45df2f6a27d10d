# A throwaway nginx for the scripts that check or measure the module outside
# Test::Nginx (util/test/test-prometheus.sh, util/test/http2-tls.sh,
# util/bench/bench.sh; from Perl, util/test/test-replay.pl and
# util/bench/faults.pl through util/lib/ThrowawayNginx.pm): a fresh prefix,
# the lines every such nginx.conf starts with, start with `nginx -t` first,
# stop, clean up on exit.  Bash, sourced:
#
#   . "$root/util/lib/throwaway-nginx.sh"
#   tn_init NAME [NGINX]    $tn_dir: a new prefix /tmp/kpn-NAME.XXXXXX with
#                           conf/ and logs/; $tn_nginx: NGINX, else $NGINX_BIN,
#                           else /usr/sbin/nginx; the EXIT trap runs
#                           tn_cleanup (a caller's own trap calls it last)
#   tn_main_conf MODULE LEVEL
#                           prints load_module, error_log (logs/error.log at
#                           LEVEL) and pid (logs/nginx.pid) for nginx.conf
#   tn_http_paths           prints client_body_temp_path and proxy_temp_path
#                           inside the prefix (the workers need not write to
#                           /var/lib/nginx)
#   tn_start [CONF]         nginx -t, then starts conf/CONF (nginx.conf; a
#                           path when it begins with /), its early errors
#                           to logs/error.log; waits (at most 5 s) for the
#                           pid file; returns 1, the log's tail printed,
#                           when either fails
#   tn_stop [SIGNAL]        SIGNAL (TERM; QUIT: graceful) to the pid file's
#                           process, waits (at most 5 s) for the pid file
#                           to go
#   tn_cleanup              tn_stop, then removes the prefix unless TN_KEEP
#                           is set
#   tn_free_port            prints a free TCP port of 127.0.0.1

tn_init() {
    tn_nginx=${2:-${NGINX_BIN:-/usr/sbin/nginx}}
    tn_dir=$(mktemp -d "${TMPDIR:-/tmp}/kpn-$1.XXXXXX")
    mkdir -p "$tn_dir/conf" "$tn_dir/logs"
    trap tn_cleanup EXIT
}

tn_main_conf() {
    printf 'load_module %s;\nerror_log %s/logs/error.log %s;\npid %s/logs/nginx.pid;\n' \
        "$1" "$tn_dir" "$2" "$tn_dir"
}

tn_http_paths() {
    printf 'client_body_temp_path %s/body;\nproxy_temp_path %s/proxy;\n' "$tn_dir" "$tn_dir"
}

tn_start() {
    local conf=${1:-nginx.conf} i
    [[ $conf == /* ]] || conf=$tn_dir/conf/$conf
    "$tn_nginx" -p "$tn_dir/" -c "$conf" -e "$tn_dir/logs/error.log" -t -q || {
        echo "throwaway nginx: nginx -t failed: $conf" >&2
        tail -5 "$tn_dir/logs/error.log" >&2 2>/dev/null
        return 1
    }
    "$tn_nginx" -p "$tn_dir/" -c "$conf" -e "$tn_dir/logs/error.log" || {
        echo "throwaway nginx: nginx did not start: $conf" >&2
        tail -5 "$tn_dir/logs/error.log" >&2 2>/dev/null
        return 1
    }
    for i in $(seq 50); do
        [ -s "$tn_dir/logs/nginx.pid" ] && return 0
        sleep 0.1
    done
    echo "throwaway nginx: no pid file after 5 s: $conf" >&2
    return 1
}

tn_stop() {
    local pid i
    [ -n "${tn_dir:-}" ] && [ -f "$tn_dir/logs/nginx.pid" ] || return 0
    pid=$(cat "$tn_dir/logs/nginx.pid" 2>/dev/null)
    [ -n "$pid" ] && kill -"${1:-TERM}" "$pid" 2>/dev/null
    for i in $(seq 50); do
        [ -f "$tn_dir/logs/nginx.pid" ] || return 0
        sleep 0.1
    done
}

tn_cleanup() {
    tn_stop
    if [ -n "${tn_dir:-}" ] && [ -z "${TN_KEEP:-}" ]; then
        rm -rf "$tn_dir"
    fi
}

tn_free_port() {
    perl -MIO::Socket::INET -e \
        'print IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0,
                                     Listen => 1)->sockport, "\n"'
}
