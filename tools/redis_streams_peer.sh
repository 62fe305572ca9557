#!/usr/bin/env bash
# Peer for `argus-bench log`: durable XADD throughput of Redis Streams at equal durability
# (appendonly yes, appendfsync always), on 127.0.0.1 and a free port, stopped on exit.
# Usage: tools/redis_streams_peer.sh CLIENTS REQUESTS PAYLOAD_BYTES
# Prints one CSV line: clients,rps,p50_ms,p99_ms
set -euo pipefail
clients=${1:-64}
requests=${2:-100000}
payload_bytes=${3:-1024}
if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools) >/dev/null 2>&1
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
dir=$(mktemp -d /tmp/argus-redis-XXXXXX)
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --appendonly yes --appendfsync always \
  --save "" --daemonize no --loglevel warning >"$dir/redis.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
payload=$(head -c "$payload_bytes" /dev/zero | tr '\0' 'x')
line=$(redis-benchmark -h 127.0.0.1 -p "$port" -c "$clients" -n "$requests" --csv XADD bench '*' payload "$payload" | tail -n 1)
# "XADD ...","rps","avg","min","p50","p95","p99","max"
echo "$line" | python3 -c '
import csv, sys
row = next(csv.reader(sys.stdin))
print(f"{sys.argv[1]},{row[1]},{row[4]},{row[6]}")' "$clients"
