#!/usr/bin/env bash
# Interop: `argus-events archive`, `verify --archive`, `tail`, and `serve` reading retained-away segments back
# (tools/archive_replay_moto.py) against moto_server (PyPI moto[server],
# an S3 mock), with boto3 from the same venv as the independent S3 client and reference verifier.
#   tools/archive_moto.sh [path/to/argus-events]     (default: builds the release binary)
#   tools/archive_moto.sh serve                      prints a free port, then runs moto_server on it in the
#                                                    foreground (exec: the caller stops it by pid); for argus-bench
# Starts moto on a free 127.0.0.1 port and stops it on exit. Prints "archive_moto: N passed, M failed";
# exits non-zero when anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = serve ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv >&2
  .venv/bin/python -c 'import moto' 2>/dev/null || .venv/bin/pip install -q --disable-pip-version-check 'moto[server]' >&2
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  echo "$port"
  exec .venv/bin/moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1
fi

binary=${1:-}
if [ -z "$binary" ]; then
  swift build -c release --product argus-events 2>&1 | grep -E "error|warning: " || true
  binary="$(swift build -c release --show-bin-path)/argus-events"
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -c 'import moto, boto3' 2>/dev/null || .venv/bin/pip install -q --disable-pip-version-check 'moto[server]'

work=$(mktemp -d /tmp/argus-archive-moto-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
.venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
cleanup() { kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

export AWS_ACCESS_KEY_ID=argus-test-key AWS_SECRET_ACCESS_KEY=argus-test-secret AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN
endpoint="http://127.0.0.1:$port"
data="$work/data"
target="s3://argus-archive/compliance/"
passed=0
failed=0
check() {
  local name=$1; shift
  if "$@" >"$work/last.out" 2>&1; then passed=$((passed + 1)); echo "ok   $name"
  else failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$work/last.out" | tail -n 15; fi
}
argus() { "$binary" "$@"; }

# Python helpers (boto3): bucket creation, listing, reference verification, tampering.
cat >"$work/s3tool.py" <<'PY'
import hashlib, json, sys
import boto3
endpoint, command, *args = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
def keys(bucket, prefix):
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return out
if command == "mkbucket":
    extra = {"ObjectLockEnabledForBucket": True} if len(args) > 1 and args[1] == "lock" else {}
    s3.create_bucket(Bucket=args[0], **extra)
elif command == "reference-verify":
    # Every manifest entry's object exists, hashes to the entry's SHA-256, equals the local segment,
    # entries are contiguous and chained; segment and manifest objects pair up one to one.
    bucket, prefix, logdir = args
    manifest = sorted(k for k in keys(bucket, prefix) if "/manifest/" in k)
    segments = sorted(k for k in keys(bucket, prefix) if "/segments/" in k)
    assert manifest and len(manifest) == len(segments), (len(manifest), len(segments))
    previous = None
    for key in manifest:
        entry = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        body = s3.get_object(Bucket=bucket, Key=prefix + entry["segment_key"])["Body"].read()
        assert hashlib.sha256(body).hexdigest() == entry["sha256"], key
        assert len(body) == entry["bytes"], key
        local = open(f"{logdir}/{entry['base_offset']:020d}.log", "rb").read()
        assert local == body, key
        if previous:
            assert entry["base_offset"] == previous["last_offset"] + 1, key
            assert entry["chain_in"] == previous["chain_out"], key
        else:
            assert entry["base_offset"] == 0 and entry["chain_in"] == "0" * 64
        previous = entry
    print(f"{len(manifest)} entries verified")
elif command == "count":
    bucket, prefix, kind = args
    print(len([k for k in keys(bucket, prefix) if f"/{kind}/" in k]))
elif command == "entry":
    bucket, prefix, base = args
    print(s3.get_object(Bucket=bucket, Key=f"{prefix}manifest/{int(base):020d}.json")["Body"].read().decode())
elif command == "put-file":
    bucket, key, path = args
    s3.put_object(Bucket=bucket, Key=key, Body=open(path, "rb").read())
elif command == "tamper":
    # Re-upload the object with one byte changed inside its record at `record` (0-based).
    bucket, key, record = args
    body = bytearray(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    position = 72
    for _ in range(int(record)):
        position += 8 + int.from_bytes(body[position:position + 4], "little")
    length = int.from_bytes(body[position:position + 4], "little")
    body[position + 8 + length - 2] ^= 0x20
    s3.put_object(Bucket=bucket, Key=key, Body=bytes(body))
elif command == "lock-mode":
    bucket, key = args
    print(s3.head_object(Bucket=bucket, Key=key).get("ObjectLockMode"))
PY
s3py() { .venv/bin/python "$work/s3tool.py" "$endpoint" "$@"; }

sealed_bases() { argus segments --data-dir "$data" --format json | .venv/bin/python -c '
import json, sys
print(" ".join(str(r["base_offset"]) for r in map(json.loads, sys.stdin) if r["sealed"]))'; }
archived_all_sealed() { argus segments --data-dir "$data" --format json | .venv/bin/python -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert all(r["archived"] == r["sealed"] for r in rows), rows'; }

s3py mkbucket argus-archive
argus publish --data-dir "$data" --type user.login --org org_1 --data '{"ip":"203.0.113.9","n":"'"$(head -c 300 /dev/zero | tr '\0' x)"'"}' \
  --repeat 3000 --concurrency 8 --segment-bytes 65536 >/dev/null 2>"$work/publish.log"
read -r -a bases <<<"$(sealed_bases)"
check "publish made several sealed segments (${#bases[@]})" test "${#bases[@]}" -ge 5

check "archive to S3 (moto) exits 0" bash -c "'$binary' archive --data-dir '$data' --target '$target' --s3-endpoint '$endpoint' >'$work/archive1.out'"
check "archive summary counts the segments" grep -q "archived ${#bases[@]} segments" "$work/archive1.out"
argus archive --data-dir "$data" --target "$target" --s3-endpoint "$endpoint" >"$work/archive2.out"
check "a second run uploads nothing" grep -q "nothing new to archive.*; ${#bases[@]} already archived" "$work/archive2.out"
check "boto3 reference verification (SHA-256, contiguity, chain, bytes equal local)" \
  s3py reference-verify argus-archive compliance/ "$data/log"
check "manifest keys contain 'manifest', one per segment" \
  test "$(s3py count argus-archive compliance/ manifest)" -eq "${#bases[@]}"
check "segments shows ARCHIVED for every sealed segment" archived_all_sealed
check "verify --archive exits 0" argus verify --data-dir "$data" --archive "$target" --s3-endpoint "$endpoint"
# Issue 13: the archive is a transparency log too (hash tiles and a signed checkpoint beside the segments),
# audited from the bucket (SigV4 over plain HTTP, standard library) and the verifier key alone.
vkey=$(argus checkpoint --data-dir "$data" --vkey)
level0_tiles=$(s3py count argus-archive compliance/ 0)
check "the archive run uploaded a checkpoint and hash tiles ($level0_tiles at level 0)" \
  bash -c "grep -q 'hash tiles uploaded' '$work/archive1.out' && test '$level0_tiles' -ge 1"
check "tools/audit.py archive --s3 verifies the checkpoint, inclusion of archived events and the tiles' root" \
  .venv/bin/python tools/audit.py archive --s3 "$target" --s3-endpoint "$endpoint" --vkey "$vkey" --save-checkpoint "$work/archive-checkpoint"

# An interrupted run: the next segment's object is uploaded (by boto3 here) but its manifest entry is not.
argus publish --data-dir "$data" --type user.login --org org_2 --data '{"more":true}' --repeat 1500 --segment-bytes 65536 \
  >/dev/null 2>>"$work/publish.log"
read -r -a more <<<"$(sealed_bases)"
next=${more[${#bases[@]}]}
s3py put-file argus-archive "compliance/segments/$(printf %020d "$next").log" "$data/log/$(printf %020d "$next").log"
check "archive resumes after an interrupted upload" \
  bash -c "'$binary' archive --data-dir '$data' --target '$target' --s3-endpoint '$endpoint' >'$work/archive3.out'"
check "the resumed run reports the reused object" grep -q "1 resumed" "$work/archive3.out"
check "no duplicate and no gap after resuming" s3py reference-verify argus-archive compliance/ "$data/log"
check "tools/audit.py archive --s3: the grown archive is consistent with the checkpoint saved before" \
  .venv/bin/python tools/audit.py archive --s3 "$target" --s3-endpoint "$endpoint" --vkey "$vkey" --old-checkpoint "$work/archive-checkpoint"
check "segment objects == manifest entries == sealed segments" \
  test "$(s3py count argus-archive compliance/ segments)" -eq "${#more[@]}" -a "$(s3py count argus-archive compliance/ manifest)" -eq "${#more[@]}"

# Read back through tail after retention-like removal of the oldest local segments.
from=$((more[1] + 5))
argus tail --data-dir "$data" --from "$from" --count 400 --format json >"$work/before.jsonl"
for base in "${more[@]:0:3}"; do rm -f "$data/log/$(printf %020d "$base").log" "$data/log/$(printf %020d "$base").index"; done
argus tail --data-dir "$data" --from "$from" --count 400 --format json >"$work/after.jsonl" 2>"$work/tail.err" || true
check "tail --from $from (segment removed locally) reads it back from the archive, into the local log" \
  cmp "$work/before.jsonl" "$work/after.jsonl"
argus tail --data-dir "$data" --from "$from" --count 400 --format json --archive "$target" --s3-endpoint "$endpoint" >"$work/after2.jsonl" || true
check "tail --archive TARGET reads it back too" cmp "$work/before.jsonl" "$work/after2.jsonl"
check "the fetched segment is in data-dir/archive-cache" test -f "$data/archive-cache/$(printf %020d "${more[1]}")/$(printf %020d "${more[1]}").log"
check "tail crossed from archived segments into the local log (400 events, dense offsets)" .venv/bin/python -c "
import json
offsets = [json.loads(l)['offset'] for l in open('$work/after.jsonl')]
assert offsets == list(range($from, $from + 400)), offsets[:3]"
check "verify --archive still exits 0 with the local log continuing the archive" \
  argus verify --data-dir "$data" --archive "$target" --s3-endpoint "$endpoint"

# Tampering: one record of the second archived segment re-uploaded with a changed byte.
s3py tamper argus-archive "compliance/segments/$(printf %020d "${more[1]}").log" 4
set +e; argus verify --data-dir "$data" --archive "$target" --s3-endpoint "$endpoint" >"$work/verify.out"; status=$?; set -e
check "verify --archive exits 1 on a tampered object" test "$status" -eq 1
check "and names the tampered record's offset ($((more[1] + 4)))" grep -q "FAILED at offset $((more[1] + 4)):" "$work/verify.out"

# Object Lock: COMPLIANCE mode on a lock-enabled bucket.
s3py mkbucket argus-locked lock
check "archive --object-lock-days 1 to a lock-enabled bucket" \
  argus archive --data-dir "$data" --target s3://argus-locked/x --s3-endpoint "$endpoint" --object-lock-days 1
check "objects are locked in COMPLIANCE mode" \
  test "$(s3py lock-mode argus-locked "x/manifest/$(printf %020d "${more[3]}").json")" = COMPLIANCE

# Errors carry context and never the secret: the run uses a distinctive secret, and its output is searched for it.
probe_secret="argus-probe-secret-$RANDOM$RANDOM"
set +e; AWS_SECRET_ACCESS_KEY=$probe_secret argus archive --data-dir "$data" --target s3://no-such-bucket/p --s3-endpoint "$endpoint" >"$work/err.out" 2>&1; status=$?; set -e
check "a missing bucket is exit 1 with the S3 error code" grep -q "NoSuchBucket" "$work/err.out"
check "errors never contain the secret key" bash -c "test $status -eq 1 && ! grep -qF '$probe_secret' '$work/err.out'"

# Issue 18: serve archives to S3 and applies retention; delivery, replay and GET /v1/events read the archive back.
set +e; .venv/bin/python tools/archive_replay_moto.py "$binary" "$endpoint" | tee "$work/replay.out"; set -e
read -r replay_passed replay_failed < <(sed -n 's/^archive_replay: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$work/replay.out")
passed=$((passed + ${replay_passed:-0})); failed=$((failed + ${replay_failed:-1}))

echo "archive_moto: $passed passed, $failed failed"
test "$failed" -eq 0
