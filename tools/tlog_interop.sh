#!/usr/bin/env bash
# Interop (issue 13): Argus Events' checkpoints, hash tiles and proofs checked with the Go checksum
# database's packages, golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog (tools/tlog_interop/).
#   tools/tlog_interop.sh [path/to/argus-events]     (default: builds the release binary)
# Installs Go and Debian's golang-golang-x-mod-dev with apt-get when they are missing (no Go module
# download: the program builds in GOPATH mode against /usr/share/gocode). Publishes events into a
# temporary data directory with small segments, archives them to a directory, and has the Go program
# verify the archive's checkpoint (note.Open), its tiles (tlog.TileHashReader, tlog.TreeHash), every event
# (tlog.ProveRecord/CheckRecord), consistency with an earlier archive checkpoint (tlog.ProveTree/CheckTree)
# and `argus-events prove` output (tlog.CheckRecord/CheckTree); then that a flipped tile byte, another
# key and a changed proof are refused. Prints "tlog_interop: N passed, M failed"; exit 1 on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

gopath=/usr/share/gocode
if ! command -v go >/dev/null || [ ! -f "$gopath/src/golang.org/x/mod/sumdb/tlog/tlog.go" ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y -q golang-go golang-golang-x-mod-dev >/dev/null
fi

binary=${1:-}
if [ -z "$binary" ]; then
  swift build -c release --product argus-events 2>&1 | grep -E "error|warning: " || true
  binary="$(swift build -c release --show-bin-path)/argus-events"
fi

work=$(mktemp -d /tmp/argus-tlog-interop-XXXXXX)
trap 'rm -rf "$work"' EXIT
GO111MODULE=off GOPATH=$gopath GOCACHE="$work/go-cache" GOFLAGS= go build -o "$work/tlog_interop" ./tools/tlog_interop

passed=0
failed=0
check() {
  local name=$1; shift
  if "$@" >"$work/last.out" 2>&1; then passed=$((passed + 1)); echo "ok   $name"; sed 's/^/     /' "$work/last.out"
  else failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$work/last.out" | tail -n 15; fi
}
refuses() { ! "$@"; }
argus() { "$binary" "$@"; }

data="$work/data"
archive="$work/archive"
publish() {
  argus publish --data-dir "$data" --type user.login --org "$1" --data '{"ip":"203.0.113.9","note":"tab\t quote\" é"}' \
    --repeat "$2" --segment-bytes 16384 >/dev/null 2>&1
}
publish org_1 700
vkey=$(argus checkpoint --data-dir "$data" --vkey)
argus archive --data-dir "$data" --target "file://$archive" >/dev/null
cp "$archive/checkpoint" "$work/old-checkpoint"
old_size=$(sed -n 2p "$work/old-checkpoint")
publish org_2 900
argus archive --data-dir "$data" --target "file://$archive" >/dev/null
size=$(sed -n 2p "$archive/checkpoint")
argus tail --data-dir "$data" --format json >"$work/leaves.jsonl"
argus prove --data-dir "$data" --offset 5 --tree-size "$size" >"$work/prove-5.json"
argus prove --data-dir "$data" --offset $((size - 1)) --tree-size "$size" >"$work/prove-last.json"
argus prove --data-dir "$data" --offset 300 --tree-size "$old_size" >"$work/prove-old.json"
argus prove --data-dir "$data" --from "$old_size" --tree-size "$size" >"$work/consistency.json"

check "Go note + tlog accept the archive ($old_size then $size events), every event, and argus-events prove output" \
  "$work/tlog_interop" -vkey "$vkey" -archive "$archive" -leaves "$work/leaves.jsonl" -old-checkpoint "$work/old-checkpoint" \
  -prove "$work/prove-5.json" -prove "$work/prove-last.json" -prove "$work/prove-old.json" -consistency "$work/consistency.json"

check "Go's note.Open refuses the checkpoint under another key" \
  refuses "$work/tlog_interop" -vkey "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k" -archive "$archive"
cp "$archive/tile/0/000" "$work/tile.bak"
printf '\x01' | dd of="$archive/tile/0/000" bs=1 seek=7 conv=notrunc status=none
check "Go's tlog.TileHashReader refuses a flipped byte in a hash tile" \
  refuses "$work/tlog_interop" -vkey "$vkey" -archive "$archive" -leaves "$work/leaves.jsonl"
cp "$work/tile.bak" "$archive/tile/0/000"
# The first proof hash's first character changed (to B when it is an A, else to A: always a change).
sed 's/"inclusion":\["A/"inclusion":["B/; t; s/"inclusion":\["./"inclusion":["A/' "$work/prove-5.json" >"$work/prove-bad.json"
check "Go's tlog.CheckRecord refuses a changed proof hash" \
  refuses "$work/tlog_interop" -vkey "$vkey" -archive "$archive" -prove "$work/prove-bad.json"

echo "tlog_interop: $passed passed, $failed failed"
test "$failed" -eq 0
