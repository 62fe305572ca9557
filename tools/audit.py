#!/usr/bin/env python3
"""An independent auditor for Argus Events' transparency log (Python standard library + `cryptography`).

It trusts nothing of the service but the verifier key it is given, and checks with its own code:
  * the checkpoint's signature (C2SP signed-note, Ed25519, key id = SHA-256(name || 0x0A || 0x01 || key)[:4])
    and its body (C2SP tlog-checkpoint v1.0.0: origin, tree size, base64 root);
  * an event's inclusion proof (RFC 9162 section 2.1.3.2; leaf = the event's `tail --format json` line);
  * a consistency proof from an older checkpoint to the latest one (RFC 9162 section 2.1.4.2).

Usage:
  audit.py api --url URL --token TOKEN --vkey VKEY [--event-id ID] [--old-checkpoint FILE] [--save-checkpoint FILE]
  audit.py archive (--dir DIR | --s3 s3://BUCKET/PREFIX --s3-endpoint URL [--region R]) --vkey VKEY
                   [--offset N]... [--old-checkpoint FILE] [--save-checkpoint FILE]
      the archive alone (`argus-events archive` output: segments/, manifest/, tile/, checkpoint): the
      checkpoint's signature; the root the hash tiles give; each chosen event (default: first, middle,
      last) read from its archived segment (SHA-256 checked against its manifest entry), its
      `tail --format json` line rebuilt, and an inclusion proof made from the tiles verified against the
      signed root; a consistency proof from an older checkpoint, made from the tiles. S3 requests are
      signed (SigV4) with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY [/ AWS_SESSION_TOKEN].
  audit.py ci --binary PATH/argus-events     (starts a server, audits it, and checks that tampering is caught;
                                              then audits a directory archive, tampering included)
Exit 0 when everything verifies, 1 when something does not (named on stderr), 2 for a usage error.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree

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


# The audit of an archive -----------------------------------------------------------------------

class DirectoryArchive:
    def __init__(self, root):
        self.root = root.rstrip("/")

    def get(self, key):
        try:
            with open(os.path.join(self.root, key), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def list(self, prefix):
        directory = os.path.join(self.root, prefix)
        if not os.path.isdir(directory):
            return []
        return sorted(prefix + name for name in os.listdir(directory) if not name.startswith("."))


class S3Archive:
    """GET and ListObjectsV2 with AWS Signature Version 4 (path-style), standard library only."""

    def __init__(self, url, endpoint, region):
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise AuditFailure(f"not an s3://BUCKET/PREFIX URL: {url}")
        self.bucket, self.prefix = parsed.netloc, parsed.path.lstrip("/")
        if self.prefix and not self.prefix.endswith("/"):
            self.prefix += "/"
        self.endpoint = endpoint.rstrip("/")
        self.region = region
        self.access_key = os.environ.get("AWS_ACCESS_KEY_ID", "")
        self.secret_key = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
        self.token = os.environ.get("AWS_SESSION_TOKEN")

    def request(self, path, query):
        host = urllib.parse.urlparse(self.endpoint).netloc
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        canonical_uri = urllib.parse.quote(path, safe="/-_.~")
        canonical_query = "&".join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
                                   for k, v in sorted(query.items()))
        payload = hashlib.sha256(b"").hexdigest()
        headers = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
        if self.token:
            headers["x-amz-security-token"] = self.token
        signed = ";".join(sorted(headers))
        canonical = "\n".join(["GET", canonical_uri, canonical_query,
                               "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)), signed, payload])
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self.secret_key).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, "
                                    f"SignedHeaders={signed}, Signature={signature}")
        del headers["host"]
        url = self.endpoint + canonical_uri + ("?" + canonical_query if canonical_query else "")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise AuditFailure(f"GET {url}: HTTP {error.code}: {error.read()[:300]!r}")

    def get(self, key):
        return self.request(f"/{self.bucket}/{self.prefix}{key}", {})

    def list(self, prefix):
        keys, token = [], None
        while True:
            query = {"list-type": "2", "prefix": self.prefix + prefix}
            if token:
                query["continuation-token"] = token
            body = self.request(f"/{self.bucket}", query)
            if body is None:
                raise AuditFailure(f"no bucket {self.bucket}")
            root = ElementTree.fromstring(body)
            ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
            keys += [c.find(ns + "Key").text[len(self.prefix):] for c in root.findall(ns + "Contents")]
            truncated = root.find(ns + "IsTruncated")
            token_element = root.find(ns + "NextContinuationToken")
            if truncated is None or truncated.text != "true" or token_element is None:
                return sorted(keys)
            token = token_element.text


def tile_path(level: int, index: int, width: int) -> str:
    """C2SP tlog-tiles: tile/<L>/<N>[.p/<W>], N in 3-digit groups, all but the last prefixed with x."""
    groups = []
    while True:
        groups.insert(0, f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    return f"tile/{level}/" + "/".join("x" + g for g in groups[:-1]) + ("/" if len(groups) > 1 else "") + groups[-1] \
        + ("" if width == 256 else f".p/{width}")


class TileHashes:
    """Hashes of a tree of `size` leaves read from the archive's tiles (height 8), as RFC 9162 needs them."""

    def __init__(self, archive, size):
        self.archive, self.size, self.tiles = archive, size, {}

    def tile(self, level, index):
        count = self.size >> (8 * level)
        width = min(256, count - index * 256)
        if width <= 0:
            raise AuditFailure(f"the tree of size {self.size} has no tile {index} at level {level}")
        path = tile_path(level, index, width)
        if path not in self.tiles:
            data = self.archive.get(path)
            if data is None:
                raise AuditFailure(f"the archive lacks the hash tile {path}")
            if len(data) != 32 * width:
                raise AuditFailure(f"hash tile {path} is {len(data)} bytes, not {32 * width}")
            self.tiles[path] = [data[i:i + 32] for i in range(0, len(data), 32)]
        return self.tiles[path]

    def subtree(self, level, index):
        """The hash of the complete subtree of 2^level leaves number `index`."""
        tile_level, depth = divmod(level, 8)
        first = index << depth
        hashes = self.tile(tile_level, first // 256)[first % 256:first % 256 + (1 << depth)]
        if len(hashes) != 1 << depth:
            raise AuditFailure(f"hash tiles do not hold subtree {index} of level {level}")
        while len(hashes) > 1:
            hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
        return hashes[0]

    def mth(self, start, end):
        n = end - start
        if n == 0:
            return hashlib.sha256(b"").digest()
        if n & (n - 1) == 0 and start % n == 0:
            return self.subtree(n.bit_length() - 1, start // n)
        k = 1 << ((n - 1).bit_length() - 1)
        return node_hash(self.mth(start, start + k), self.mth(start + k, end))

    def inclusion(self, m, start, end):
        """RFC 9162 2.1.3.1 PATH(m, D[start:end])."""
        n = end - start
        if n == 1:
            return []
        k = 1 << ((n - 1).bit_length() - 1)
        if m < k:
            return self.inclusion(m, start, start + k) + [self.mth(start + k, end)]
        return self.inclusion(m - k, start + k, end) + [self.mth(start, start + k)]

    def consistency(self, m, start, end, whole=True):
        """RFC 9162 2.1.4.1 SUBPROOF(m, D[start:end], b)."""
        n = end - start
        if m == n:
            return [] if whole else [self.mth(start, end)]
        k = 1 << ((n - 1).bit_length() - 1)
        if m <= k:
            return self.consistency(m, start, start + k, whole) + [self.mth(start + k, end)]
        return self.consistency(m - k, start + k, end, False) + [self.mth(start, start + k)]


def json_string(raw: bytes) -> bytes:
    """The JSON string literal Argus writes: ", \\ and control bytes escaped, everything else as is."""
    out = bytearray(b'"')
    for byte in raw:
        if byte == 0x22:
            out += b'\\"'
        elif byte == 0x5C:
            out += b"\\\\"
        elif byte == 0x0A:
            out += b"\\n"
        elif byte == 0x0D:
            out += b"\\r"
        elif byte == 0x09:
            out += b"\\t"
        elif byte < 0x20:
            out += b"\\u00%02x" % byte
        else:
            out.append(byte)
    return bytes(out + b'"')


def envelope(offset, timestamp_ms, organization, event_type, event_id, data) -> bytes:
    """An event's `tail --format json` line (DESIGN.md "Event envelope"): the Merkle leaf."""
    moment = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(milliseconds=timestamp_ms)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{timestamp_ms % 1000:03d}+00:00"
    return (b'{"id":' + json_string(event_id) + b',"type":' + json_string(event_type) + b',"timestamp":"' + stamp.encode()
            + b'","organization_id":' + json_string(organization) + b',"offset":' + str(offset).encode()
            + b',"data":' + (data if data else b"null") + b"}")


def segment_events(body: bytes):
    """(offset, leaf) of every event in an archived segment (72-byte header, then length | crc | body frames)."""
    position = 72
    while position + 8 <= len(body):
        length = int.from_bytes(body[position:position + 4], "little")
        frame = body[position + 8:position + 8 + length]
        position += 8 + length
        if len(frame) != length or frame[0] != 1:
            continue
        org_len, type_len, id_len = (int.from_bytes(frame[i:i + 2], "little") for i in (2, 4, 6))
        offset = int.from_bytes(frame[8:16], "little")
        timestamp_ms = int.from_bytes(frame[16:24], "little", signed=True)
        rest = frame[56:]
        organization, event_type = rest[:org_len], rest[org_len:org_len + type_len]
        event_id = rest[org_len + type_len:org_len + type_len + id_len]
        data = rest[org_len + type_len + id_len:]
        yield offset, envelope(offset, timestamp_ms, organization, event_type, event_id, data)


def audit_archive(archive, vkey, offsets=None, old_checkpoint=None, save_checkpoint=None) -> list:
    done = []
    note = archive.get("checkpoint")
    if note is None:
        raise AuditFailure("the archive holds no checkpoint")
    note = note.decode()
    origin, size, root = verify_checkpoint(note, vkey)
    done.append(f"archive checkpoint of {origin} at size {size}: signature ok")
    if save_checkpoint:
        with open(save_checkpoint, "w") as f:
            f.write(note)
    tiles = TileHashes(archive, size)
    if tiles.mth(0, size) != root:
        raise AuditFailure("the archive's hash tiles do not give the checkpoint's root")
    done.append(f"the archive's hash tiles give the signed root of size {size}")
    entries = [json.loads(archive.get(key)) for key in archive.list("manifest/") if key.endswith(".json")]
    for offset in sorted(set(offsets if offsets else [0, size // 2, size - 1])):
        if not 0 <= offset < size:
            raise AuditFailure(f"offset {offset} is not in the archive's tree of size {size}")
        entry = next((e for e in entries if e.get("last_offset") is not None and e["base_offset"] <= offset <= e["last_offset"]), None)
        if entry is None:
            raise AuditFailure(f"no manifest entry holds offset {offset}")
        body = archive.get(entry["segment_key"])
        if body is None or hashlib.sha256(body).hexdigest() != entry["sha256"]:
            raise AuditFailure(f"segment {entry['segment_key']} is missing or differs from its manifest entry")
        leaf = next((line for number, line in segment_events(body) if number == offset), None)
        if leaf is None:
            raise AuditFailure(f"segment {entry['segment_key']} does not hold offset {offset}")
        proof = tiles.inclusion(offset, 0, size)
        if root_from_inclusion(offset, size, leaf_hash(leaf), proof) != root:
            raise AuditFailure(f"event at offset {offset}: its inclusion proof does not lead to the signed root")
        done.append(f"archived event {json.loads(leaf)['id']} (offset {offset}, {entry['segment_key']}) is in the tree of size {size}")
    if old_checkpoint:
        with open(old_checkpoint) as f:
            _, old_size, old_root = verify_checkpoint(f.read(), vkey)
        if old_size > size:
            raise AuditFailure(f"the archive's tree ({size}) is smaller than the old checkpoint's ({old_size})")
        proof = tiles.consistency(old_size, 0, size) if 0 < old_size < size else []
        verify_consistency(old_size, size, old_root, root, proof)
        done.append(f"the tree of size {old_size} is a prefix of the archive's tree of size {size}")
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
        ci_archive(binary, work)
        print("audit: ok")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        subprocess.run(["rm", "-rf", work])


def ci_archive(binary: str, work: str) -> None:
    """A directory archive audited from its files and the verifier key alone; tampering caught."""
    data, target = work + "/archive-data", work + "/archive"

    def argus(*arguments):
        return subprocess.run([binary, *arguments], capture_output=True, text=True, timeout=120, check=True).stdout

    def publish(count, org):
        argus("publish", "--data-dir", data, "--type", "user.login", "--org", org, "--data",
              '{"ip":"203.0.113.9","note":"tab\\t quote\\" \\u00e9"}', "--repeat", str(count), "--segment-bytes", "16384")

    publish(700, "org_archive")
    vkey = argus("checkpoint", "--data-dir", data, "--vkey").strip()
    out = argus("archive", "--data-dir", data, "--target", "file://" + target)
    if "hash tiles uploaded" not in out:
        raise AuditFailure(f"archive did not upload the transparency log: {out}")
    archive = DirectoryArchive(target)
    saved = work + "/archive-checkpoint"
    for line in audit_archive(archive, vkey, save_checkpoint=saved):
        print("ok  ", line)
    publish(700, "org_archive_2")
    argus("archive", "--data-dir", data, "--target", "file://" + target)
    with open(saved) as f:
        old_size = verify_checkpoint(f.read(), vkey)[1]
    lines = audit_archive(archive, vkey, offsets=[1, old_size - 1, old_size], old_checkpoint=saved)
    for line in lines:
        print("ok  ", line)
    size = verify_checkpoint(archive.get("checkpoint").decode(), vkey)[1]
    if size <= old_size:
        raise AuditFailure("the second archive run did not grow the archive's checkpoint")

    def rejected(label, action):
        try:
            action()
        except AuditFailure as error:
            print(f"ok   rejected {label}: {error}")
            return
        raise SystemExit(f"FAIL {label}: accepted")

    def flipped(path, position):
        with open(path, "rb") as f:
            original = f.read()
        changed = bytearray(original)
        changed[position] ^= 1
        with open(path, "wb") as f:
            f.write(changed)
        return original

    rejected("an archive checked with another log's key",
             lambda: audit_archive(archive, "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"))
    tile = os.path.join(target, "tile/0/000")
    original = flipped(tile, 5)
    rejected("an archive with a flipped byte in a hash tile", lambda: audit_archive(archive, vkey, offsets=[3]))
    with open(tile, "wb") as f:
        f.write(original)
    segment = os.path.join(target, sorted(archive.list("segments/"))[0])
    original = flipped(segment, 200)
    rejected("an archive with a flipped byte in a segment", lambda: audit_archive(archive, vkey, offsets=[1]))
    with open(segment, "wb") as f:
        f.write(original)
    audit_archive(archive, vkey)
    print("ok   the restored archive verifies again")


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
    arch = sub.add_parser("archive")
    where = arch.add_mutually_exclusive_group(required=True)
    where.add_argument("--dir")
    where.add_argument("--s3")
    arch.add_argument("--s3-endpoint", default="https://s3.amazonaws.com")
    arch.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    arch.add_argument("--vkey", required=True)
    arch.add_argument("--offset", type=int, action="append")
    arch.add_argument("--old-checkpoint")
    arch.add_argument("--save-checkpoint")
    ci_parser = sub.add_parser("ci")
    ci_parser.add_argument("--binary", required=True)
    args = parser.parse_args()
    try:
        if args.mode == "ci":
            ci(args.binary)
        elif args.mode == "archive":
            archive = DirectoryArchive(args.dir) if args.dir else S3Archive(args.s3, args.s3_endpoint, args.region)
            for line in audit_archive(archive, args.vkey, args.offset, args.old_checkpoint, args.save_checkpoint):
                print("ok  ", line)
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
