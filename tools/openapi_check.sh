#!/usr/bin/env bash
# Contract check of the HTTP API against its OpenAPI document (Sources/Service/OpenAPIDocument.swift):
# starts `argus-events serve` on a fresh data directory, takes a platform:admin token, downloads
# GET /openapi.json, validates it with openapi-spec-validator, then fuzzes every operation with
# schemathesis (all checks) and requires no 5xx, no crash, and responses that match the document.
#
# Usage: tools/openapi_check.sh [--binary PATH] [--max-examples N] [--seed N]
# Runs in its own network and mount namespaces where unshare(1) allows it: only loopback, so fuzzed
# webhook URLs, whose host names the server resolves, never reach a DNS server; and an /etc/hosts in
# which the document's example host hooks.example.com is 127.0.0.1 (allowed with
# --allow-target-cidr), so webhooks can be created and the stateful phase follows links. Prints
# `openapi_check: N passed, M failed` last; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

binary=""
max_examples=100
seed=20260605
while [[ $# -gt 0 ]]; do
    case "$1" in
        --binary) binary="$2"; shift 2 ;;
        --max-examples) max_examples="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        *) echo "usage: $0 [--binary PATH] [--max-examples N] [--seed N]" >&2; exit 2 ;;
    esac
done

# Setup (needs the package registry, so before entering the namespace).
if [[ -z "${OPENAPI_CHECK_INNER:-}" ]]; then
    if [[ ! -x .venv/bin/python ]]; then python3 -m venv .venv; fi
    if ! .venv/bin/python -c 'import openapi_spec_validator, schemathesis' 2>/dev/null; then
        .venv/bin/pip install -q --disable-pip-version-check openapi-spec-validator schemathesis
    fi
    if [[ -z "$binary" ]]; then
        binary="$(swift build -c release --show-bin-path)/argus-events"
        if [[ ! -x "$binary" ]]; then
            swift build -c release --product argus-events 2>&1 | tail -n 20
            test "${PIPESTATUS[0]}" -eq 0
        fi
    fi
    binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
    args=(--binary "$binary" --max-examples "$max_examples" --seed "$seed")
    if command -v unshare >/dev/null && command -v ip >/dev/null && unshare -n -m true 2>/dev/null; then
        # The document's example webhook host resolves to loopback in here (and the server allows it).
        hosts="$(mktemp)"
        printf '127.0.0.1 localhost hooks.example.com\n::1 localhost\n' >"$hosts"
        status=0
        env OPENAPI_CHECK_INNER=1 unshare -n -m bash -c \
            'ip link set lo up && mount --bind "$1" /etc/hosts && shift && exec bash "$@"' _ "$hosts" "$0" "${args[@]}" || status=$?
        rm -f "$hosts"
        exit "$status"
    fi
    echo "openapi_check: note: no private network namespace (unshare -n -m); webhook create and update are not fuzzed" >&2
    exec env OPENAPI_CHECK_INNER=1 OPENAPI_CHECK_NO_NETNS=1 bash "$0" "${args[@]}"
fi

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
finish() {
    echo "openapi_check: $passed passed, $failed failed"
    if [[ $failed -eq 0 ]]; then exit 0; else exit 1; fi
}

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    # OPENAPI_CHECK_LOG_DIR=DIR keeps the server's access log and the schemathesis output.
    if [[ -n "${OPENAPI_CHECK_LOG_DIR:-}" ]]; then
        mkdir -p "$OPENAPI_CHECK_LOG_DIR"
        cp "$work"/server.* "$work"/schemathesis.log "$work"/junit.xml "$OPENAPI_CHECK_LOG_DIR"/ 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Port 0: the kernel picks a free port; the server prints the one it bound.
"$binary" serve --no-supervisor --data-dir "$work/data" --listen 127.0.0.1:0 --allow-target-cidr 127.0.0.0/8 \
    >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
base=""
for _ in $(seq 100); do
    base="$(sed -n 's/^.* listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*$/\1/p' "$work/server.out")"
    [[ -n "$base" ]] && grep -q 'client_secret:' "$work/server.out" && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
client_id="$(sed -n 's/^ *client_id: *\([^ ]*\)$/\1/p' "$work/server.out")"
client_secret="$(sed -n 's/^ *client_secret: *\([^ ]*\)$/\1/p' "$work/server.out")"
if [[ -z "$base" || -z "$client_id" || -z "$client_secret" ]]; then
    fail "server start (no listening address or admin credentials on stdout)"
    sed -n 1,40p "$work/server.err" >&2
    finish
fi
pass "server listening on $base"

py=.venv/bin/python
token="$("$py" - "$base" "$client_id" "$client_secret" <<'EOF' || true
import base64, json, sys, urllib.request
base, client_id, secret = sys.argv[1:4]
request = urllib.request.Request(base + "/oauth/token", data=b"grant_type=client_credentials", headers={
    "Content-Type": "application/x-www-form-urlencoded",
    "Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()})
with urllib.request.urlopen(request, timeout=10) as response:
    print(json.load(response)["access_token"])
EOF
)"
if [[ -z "$token" ]]; then fail "POST /oauth/token (client credentials)"; finish; fi
pass "POST /oauth/token gave a platform:admin token"

if "$py" - "$base" "$work/openapi.json" <<'EOF'
import json, sys, urllib.request
from openapi_spec_validator import validate
base, path = sys.argv[1:3]
with urllib.request.urlopen(base + "/openapi.json", timeout=10) as response:
    assert response.status == 200, response.status
    assert response.headers.get_content_type() == "application/json"
    document = json.loads(response.read())
validate(document)
assert document["openapi"].startswith("3.1."), document["openapi"]
json.dump(document, open(path, "w"))
print(f"     {len(document['paths'])} paths, {sum(1 for item in document['paths'].values() for method in item if method != 'parameters')} operations")
EOF
then pass "GET /openapi.json is a valid OpenAPI 3.1 document (openapi-spec-validator)"
else fail "GET /openapi.json is a valid OpenAPI 3.1 document (openapi-spec-validator)"; finish
fi

# Schemathesis: every phase (examples, coverage, fuzzing, stateful via the document's links), every check.
echo "== schemathesis $("$py" -c 'import importlib.metadata as m; print(m.version("schemathesis"))') (max $max_examples examples per operation, seed $seed)"
st_status=0
extra=()
if [[ -n "${OPENAPI_CHECK_NO_NETNS:-}" ]]; then
    # Outside the namespace fuzzed webhook URLs would be looked up in the real DNS.
    extra=(--exclude-operation-id createWebhook --exclude-operation-id updateWebhook)
fi
# tools/schemathesis.toml sends the bearer token (the equivalent of -H "Authorization: Bearer $token")
# and HTTP Basic client credentials to the OAuth endpoints; tools/schemathesis_hooks.py keeps generated
# Idempotency-Keys unique. One worker: CPython 3.11's ast module is not thread-safe (hypothesis parses
# sources to describe strategies; two threads end in "AST constructor recursion depth mismatch").
ARGUS_TOKEN="$token" ARGUS_CLIENT_BASIC="$(printf '%s:%s' "$client_id" "$client_secret" | base64 -w0)" \
SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$root/tools" \
timeout 240 .venv/bin/schemathesis --no-color --config-file tools/schemathesis.toml run "$base/openapi.json" \
    --url "$base" --checks all --max-examples "$max_examples" --seed "$seed" --workers 1 \
    --generation-database none --request-timeout 10 --max-failures 50 "${extra[@]}" \
    --report junit --report-junit-path "$work/junit.xml" >"$work/schemathesis.log" 2>&1 || st_status=$?
if [[ $st_status -eq 0 ]]; then tail -n 30 "$work/schemathesis.log"; else cat "$work/schemathesis.log"; fi
if [[ -f "$work/junit.xml" ]]; then
    read -r st_passed st_failed < <("$py" - "$work/junit.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
passed = failed = 0
for case in cases:
    bad = case.find("failure") is not None or case.find("error") is not None
    failed += bad
    passed += (not bad) and case.find("skipped") is None
print(passed, failed)
EOF
)
    passed=$((passed + st_passed))
    failed=$((failed + st_failed))
    echo "     schemathesis: $st_passed operations passed, $st_failed failed"
fi
if [[ $st_status -eq 0 ]]; then pass "schemathesis run (exit 0)"; else fail "schemathesis run (exit $st_status)"; fi

# Still alive and answering after the fuzzing.
if kill -0 "$server_pid" 2>/dev/null && "$py" - "$base" <<'EOF'
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=10) as response:
    assert json.load(response)["status"] == "ok"
EOF
then pass "server still answers /healthz after the run"
else fail "server still answers /healthz after the run"; sed -n 1,40p "$work/server.err" >&2
fi
if grep -q '"level":"error"' "$work/server.err"; then
    fail "server logged errors"; grep '"level":"error"' "$work/server.err" | head -n 10 >&2
else
    pass "server logged no errors"
fi
finish
