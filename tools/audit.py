#!/usr/bin/env python3
"""An independent auditor for Argus Events' transparency log (Python standard library + `cryptography`).

It trusts nothing of the service but the verifier key it is given, and checks with its own code:
  * the checkpoint's signature (C2SP signed-note, Ed25519, key id = SHA-256(name || 0x0A || 0x01 || key)[:4])
    and its body (C2SP tlog-checkpoint v1.0.0: origin, tree size, base64 root);
  * an event's inclusion proof (RFC 9162 section 2.1.3.2; leaf = the event's `tail --format json` line);
  * a consistency proof from an older checkpoint to the latest one (RFC 9162 section 2.1.4.2).

Usage:
  audit.py api --url URL --token TOKEN --vkey VKEY [--event-id ID] [--old-checkpoint FILE] [--save-checkpoint FILE]
  audit.py ci --binary PATH/argus-events     (starts a server, audits it, and checks that tampering is caught)
Exit 0 when everything verifies, 1 when something does not (named on stderr), 2 for a usage error.
"""
import argparse
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class AuditFailure(Exception):
    pass


# RFC 9162 section 2.1 -------------------------------------------------------------------------

def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: list) -> bytes:
    if not 0 <= index < size:
        raise AuditFailure(f"leaf index {index} is not in a tree of {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise AuditFailure("inclusion proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise AuditFailure("inclusion proof too short")
    return r


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: list) -> None:
    if size1 > size2:
        raise AuditFailure(f"old size {size1} is larger than new size {size2}")
    if size1 == size2:
        if proof or root1 != root2:
            raise AuditFailure("same size, different roots (or a non-empty proof)")
        return
    if size1 == 0:
        if proof:
            raise AuditFailure("a proof from the empty tree must be empty")
        return
    if not proof:
        raise AuditFailure("empty consistency proof")
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise AuditFailure("consistency proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != root1 or sr != root2:
        raise AuditFailure("consistency proof does not lead to the two roots")


# C2SP signed-note and tlog-checkpoint ---------------------------------------------------------

def parse_vkey(vkey: str):
    name, key_id_hex, key_b64 = vkey.strip().split("+", 2)
    key = base64.b64decode(key_b64, validate=True)
    if len(key) != 33 or key[0] != 0x01:
        raise AuditFailure("verifier key is not Ed25519 (0x01 || 32 bytes)")
    key_id = hashlib.sha256(name.encode() + b"\n\x01" + key[1:]).digest()[:4]
    if key_id.hex() != key_id_hex:
        raise AuditFailure("verifier key id does not match its name and key")
    return name, key_id, Ed25519PublicKey.from_public_bytes(key[1:])


def verify_checkpoint(note: str, vkey: str):
    """Returns (origin, size, root) of a checkpoint signed by `vkey`."""
    name, key_id, public_key = parse_vkey(vkey)
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise AuditFailure("not a signed note")
    text, signatures = note[:split + 1], note[split + 2:].split("\n")[:-1]
    verified = False
    for line in signatures:
        dash, key_name, sig_b64 = line.split(" ")
        signature = base64.b64decode(sig_b64, validate=True)
        if dash != "\u2014" or key_name != name or signature[:4] != key_id:
            continue
        try:
            public_key.verify(signature[4:], text.encode())
            verified = True
        except InvalidSignature:
            raise AuditFailure("checkpoint signature does not verify")
    if not verified:
        raise AuditFailure(f"no signature from {name}")
    lines = text.split("\n")
    origin, size_text, root_b64 = lines[0], lines[1], lines[2]
    if origin != name or not re.fullmatch(r"0|[1-9][0-9]*", size_text):
        raise AuditFailure("checkpoint body is not origin / tree size / root")
    root = base64.b64decode(root_b64, validate=True)
    if len(root) != 32:
        raise AuditFailure("checkpoint root is not 32 bytes")
    return origin, int(size_text), root


# The audit against the API ---------------------------------------------------------------------

def get(url: str, token: str) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def audit_api(url, token, vkey, event_id=None, old_checkpoint=None, save_checkpoint=None) -> list:
    done = []
    note = get(url + "/v1/log/checkpoint", token).decode()
    origin, size, root = verify_checkpoint(note, vkey)
    done.append(f"checkpoint of {origin} at size {size}: signature ok")
    if save_checkpoint:
        with open(save_checkpoint, "w") as f:
            f.write(note)
    if event_id:
        proof = json.loads(get(f"{url}/v1/events/{event_id}/proof?tree_size={size}", token))
        leaf = proof["leaf"].encode()
        if json.loads(leaf)["id"] != event_id:
            raise AuditFailure("the proof's leaf is another event")
        if base64.b64decode(proof["leaf_hash"]) != leaf_hash(leaf):
            raise AuditFailure("leaf_hash is not SHA-256(0x00 || leaf)")
        if verify_checkpoint(proof["checkpoint"], vkey)[2] != root:
            raise AuditFailure("the proof's checkpoint has another root")
        path = [base64.b64decode(h) for h in proof["inclusion"]]
        if root_from_inclusion(proof["offset"], size, leaf_hash(leaf), path) != root:
            raise AuditFailure("inclusion proof does not lead to the checkpoint's root")
        done.append(f"event {event_id} (offset {proof['offset']}) is in the tree of size {size}")
    if old_checkpoint:
        with open(old_checkpoint) as f:
            _, old_size, old_root = verify_checkpoint(f.read(), vkey)
        proof = json.loads(get(f"{url}/v1/log/consistency?from={old_size}&to={size}", token))
        verify_consistency(old_size, size, old_root, root, [base64.b64decode(h) for h in proof["consistency"]])
        done.append(f"the tree of size {old_size} is a prefix of the tree of size {size}")
    return done


# CI: a real server, audited, and tampering caught ----------------------------------------------

def ci(binary: str) -> None:
    work = tempfile.mkdtemp(prefix="argus-audit-")
    server = subprocess.Popen([binary, "serve", "--no-supervisor", "--data-dir", work + "/data", "--listen", "127.0.0.1:0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base = client_id = secret = None
        deadline = time.time() + 30
        while time.time() < deadline and not (base and client_id and secret):
            line = server.stdout.readline()
            if not line:
                break
            base = base or (re.search(r"listening on (http://127\.0\.0\.1:\d+)", line) or [None, None])[1]
            client_id = client_id or (re.search(r"client_id:\s*(\S+)", line) or [None, None])[1]
            secret = secret or (re.search(r"client_secret:\s*(\S+)", line) or [None, None])[1]
        if not (base and client_id and secret):
            raise AuditFailure("the server did not print its address and admin credentials")
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        request = urllib.request.Request(base + "/oauth/token", data=b"grant_type=client_credentials",
                                         headers={"Authorization": "Basic " + basic,
                                                  "Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(request, timeout=10) as response:
            token = json.load(response)["access_token"]

        def publish(n):
            body = json.dumps({"type": "user.created", "organization_id": "org_audit", "data": {"n": n}}).encode()
            request = urllib.request.Request(base + "/v1/events", data=body, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.load(response)["id"]

        ids = [publish(n) for n in range(300)]
        # The verifier key as an operator hands it out (the CLI on the data directory), compared with the API's.
        vkey = subprocess.run([binary, "checkpoint", "--data-dir", work + "/data", "--vkey"], capture_output=True,
                              text=True, timeout=60, check=True).stdout.strip()
        if get(base + "/v1/log/vkey", token).decode().strip() != vkey:
            raise AuditFailure("the API's verifier key is not the data directory's")
        old = work + "/old-checkpoint"
        for line in audit_api(base, token, vkey, event_id=ids[7], save_checkpoint=old):
            print("ok  ", line)
        ids += [publish(n) for n in range(300, 600)]
        for line in audit_api(base, token, vkey, event_id=ids[555], old_checkpoint=old):
            print("ok  ", line)

        # Tampering is caught: another key, a changed size, a flipped proof hash.
        with open(old) as f:
            note = f.read()
        for label, bad_note, key in [
            ("a checkpoint checked with another log's key", note,
             "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"),
            ("a checkpoint with a changed tree size", re.sub(r"\n(\d+)\n", lambda m: f"\n{int(m[1]) + 1}\n", note, count=1), vkey),
        ]:
            try:
                verify_checkpoint(bad_note, key)
                raise SystemExit(f"FAIL {label}: accepted")
            except AuditFailure:
                print("ok   rejected", label)
        _, size, root = verify_checkpoint(note, vkey)
        proof = json.loads(get(f"{base}/v1/events/{ids[7]}/proof?tree_size={size}", token))
        path = [base64.b64decode(h) for h in proof["inclusion"]]
        path[0] = bytes([path[0][0] ^ 1]) + path[0][1:]
        if root_from_inclusion(proof["offset"], size, leaf_hash(proof["leaf"].encode()), path) == root:
            raise SystemExit("FAIL a flipped inclusion hash: accepted")
        print("ok   rejected an inclusion proof with a flipped byte")
        print("audit: ok")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        subprocess.run(["rm", "-rf", work])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    api = sub.add_parser("api")
    api.add_argument("--url", required=True)
    api.add_argument("--token", required=True)
    api.add_argument("--vkey", required=True)
    api.add_argument("--event-id")
    api.add_argument("--old-checkpoint")
    api.add_argument("--save-checkpoint")
    ci_parser = sub.add_parser("ci")
    ci_parser.add_argument("--binary", required=True)
    args = parser.parse_args()
    try:
        if args.mode == "ci":
            ci(args.binary)
        else:
            for line in audit_api(args.url.rstrip("/"), args.token, args.vkey, args.event_id, args.old_checkpoint,
                                  args.save_checkpoint):
                print("ok  ", line)
    except (AuditFailure, urllib.error.URLError, ValueError, KeyError) as error:
        print(f"audit: FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
