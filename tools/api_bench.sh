#!/usr/bin/env bash
# Peer and load tools for `argus-bench api`:
#   tools/api_bench.sh wrk URL TOKEN SCRIPT SECONDS CONNECTIONS   -> runs wrk with a Lua script, prints wrk's report
#   tools/api_bench.sh wrk-url URL SECONDS CONNECTIONS            -> plain wrk GETs against URL
#   tools/api_bench.sh install                                    -> installs wrk and nginx only
#   tools/api_bench.sh nginx SECONDS CONNECTIONS                  -> starts nginx `return 204;` on a free 127.0.0.1 port,
#                                                                    runs wrk against it, stops nginx
# Installs wrk and nginx from Debian when missing. Only 127.0.0.1 is ever targeted.
set -euo pipefail
install() {
  command -v wrk >/dev/null && command -v nginx >/dev/null && return
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light || \
   DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx) >/dev/null 2>&1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
install
case "${1:-}" in
  install) ;;
  wrk)
    url=$2; token=$3; script=$4; seconds=$5; connections=$6
    ARGUS_TOKEN="$token" wrk -t 1 -c "$connections" -d "${seconds}s" --latency -s "$script" "$url"
    ;;
  wrk-url)
    wrk -t 1 -c "$4" -d "${3}s" --latency "$2"
    ;;
  nginx)
    seconds=$2; connections=$3
    dir=$(mktemp -d /tmp/argus-nginx-XXXXXX)
    port=$(free_port)
    cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir;
  server { listen 127.0.0.1:$port; location / { return 204; } }
}
CONF
    nginx -c "$dir/nginx.conf" -p "$dir" &
    pid=$!
    trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
    for _ in $(seq 1 50); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
    wrk -t 1 -c "$connections" -d "${seconds}s" --latency "http://127.0.0.1:$port/"
    ;;
  *) echo "usage: $0 wrk URL TOKEN SCRIPT SECONDS CONNECTIONS | nginx SECONDS CONNECTIONS" >&2; exit 2 ;;
esac
