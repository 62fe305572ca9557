#!/usr/bin/env python3
"""Cross-checks argus-events' Ed25519 (RFC 8032) against PyPI `cryptography` (OpenSSL).

Both directions on thousands of random keys and messages:
  1. ours signs, `cryptography` verifies (and our public key equals theirs; Ed25519 is
     deterministic, so the signatures must be byte-identical too);
  2. `cryptography` signs, ours verifies;
  3. ours rejects modified signatures (a flipped bit anywhere, S + L, a wrong message, another key).
Talks to the hidden `argus-events ed25519-batch` command (one request per line).

Then Standard Webhooks v1a (no released standard-webhooks library verifies v1a, so
`cryptography` does it directly): `argus-events sign --secret whsk_...` (32-byte seed and 64-byte
seed||public forms, and a rotation with two keys) prints headers whose every `v1a,` entry
verifies as Ed25519 over "{webhook-id}.{webhook-timestamp}.{body}" (newest key first), with no
x-argus-signature; and `argus-events verify-signature --public-key whpk_...` accepts headers
signed by `cryptography` and rejects a tampered body.

    .venv/bin/python tools/ed25519_interop.py --binary .build/release/argus-events [--count 3000]
"""
import argparse
import os
import random
import subprocess
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

L = 2**252 + 27742317777372353535851937790883648493


def hexm(message):
    return message.hex() if message else "-"


def run_batch(binary, lines):
    result = subprocess.run([binary, "ed25519-batch"], input="\n".join(lines) + "\n", capture_output=True,
                            text=True, timeout=600, stdin=None)
    if result.returncode != 0:
        sys.exit(f"ed25519-batch exited {result.returncode}: {result.stderr}")
    answers = result.stdout.splitlines()
    if len(answers) != len(lines):
        sys.exit(f"ed25519-batch answered {len(answers)} lines for {len(lines)} requests: {result.stderr}")
    return answers


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=None, help="random seed (printed, for reruns)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    print(f"ed25519 interop: {args.count} keys and messages, random seed {seed}")

    cases = []
    for index in range(args.count):
        key_seed = rng.randbytes(32)
        length = rng.choice([0, 1, 31, 32, 63, 64, 111, 112, 127, 128, 129, rng.randrange(0, 4096)])
        cases.append((key_seed, rng.randbytes(length)))

    # 1. Ours signs, theirs verifies and recomputes.
    answers = run_batch(args.binary, [f"sign {k.hex()} {hexm(m)}" for k, m in cases])
    ours = []
    for (key_seed, message), answer in zip(cases, answers):
        public_hex, signature_hex = answer.split(" ")
        theirs = Ed25519PrivateKey.from_private_bytes(key_seed)
        their_public = theirs.public_key().public_bytes_raw()
        assert public_hex == their_public.hex(), f"public key differs for seed {key_seed.hex()}"
        signature = bytes.fromhex(signature_hex)
        assert signature == theirs.sign(message), f"signature differs for seed {key_seed.hex()} message {hexm(message)}"
        Ed25519PublicKey.from_public_bytes(their_public).verify(signature, message)
        ours.append((their_public, message, signature))
    print(f"  ours signs, cryptography verifies: {len(ours)} ok (byte-identical signatures and public keys)")

    # 2. Theirs signs, ours verifies; 3. modified signatures are rejected by both.
    requests, expected = [], []
    for (key_seed, message), (public, _, _) in zip(cases, ours):
        signature = Ed25519PrivateKey.from_private_bytes(key_seed).sign(message)
        requests.append(f"verify {public.hex()} {hexm(message)} {signature.hex()}")
        expected.append("ok")
        flipped = bytearray(signature)
        bit = rng.randrange(512)
        flipped[bit // 8] ^= 1 << (bit % 8)
        requests.append(f"verify {public.hex()} {hexm(message)} {bytes(flipped).hex()}")
        expected.append("bad")
        s = int.from_bytes(signature[32:], "little") + L
        if s < 2**256:
            requests.append(f"verify {public.hex()} {hexm(message)} {(signature[:32] + s.to_bytes(32, 'little')).hex()}")
            expected.append("bad")
        requests.append(f"verify {public.hex()} {hexm(message + b'x')} {signature.hex()}")
        expected.append("bad")
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    key_seed, message = cases[0]
    requests.append(f"verify {other.hex()} {hexm(message)} {Ed25519PrivateKey.from_private_bytes(key_seed).sign(message).hex()}")
    expected.append("bad")
    for request, want in zip(requests, expected):
        if want == "bad":
            # Confirm the reference rejects it too, so the expectation itself is right.
            _, public_hex, message_hex, signature_hex = request.split(" ")
            try:
                Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(
                    bytes.fromhex(signature_hex), b"" if message_hex == "-" else bytes.fromhex(message_hex))
                sys.exit(f"cryptography accepted a modified signature: {request}")
            except InvalidSignature:
                pass
    answers = run_batch(args.binary, requests)
    failures = [(r, w, a) for r, w, a in zip(requests, expected, answers) if a != w]
    for request, want, answer in failures[:10]:
        print(f"  MISMATCH want {want} got {answer}: {request[:200]}")
    if failures:
        sys.exit(f"ed25519 interop: {len(failures)} of {len(requests)} verifications disagree")
    accepted = expected.count("ok")
    print(f"  cryptography signs, ours verifies: {accepted} ok; modified signatures rejected: {len(requests) - accepted}")
    print("ed25519 interop: all agree")
    check_v1a(args.binary, rng)


def headers_of(text):
    fields = {}
    for line in text.splitlines():
        name, _, value = line.partition(": ")
        fields[name] = value
    return fields


def check_v1a(binary, rng):
    import base64
    import time
    checked = 0
    for round_index in range(20):
        newest, older = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        def whsk(key, long_form):
            seed = key.private_bytes_raw()
            raw = seed + key.public_key().public_bytes_raw() if long_form else seed
            return "whsk_" + base64.b64encode(raw).decode()
        body = rng.randbytes(rng.randrange(0, 2048))
        msg_id = f"msg_{round_index}"
        timestamp = str(int(time.time()))
        rotation = round_index % 2 == 1
        command = [binary, "sign", "--secret", whsk(newest, round_index % 4 < 2), "--id", msg_id, "--timestamp", timestamp]
        if rotation:
            command += ["--secret", whsk(older, round_index % 3 == 0)]
        result = subprocess.run(command, input=body, capture_output=True, timeout=60)
        assert result.returncode == 0, result.stderr
        headers = headers_of(result.stdout.decode())
        assert "x-argus-signature" not in headers, "v1a deliveries carry no x-argus-signature"
        assert headers["svix-signature"] == headers["webhook-signature"]
        entries = headers["webhook-signature"].split(" ")
        keys = [newest, older] if rotation else [newest]
        assert len(entries) == len(keys), entries
        signed = f"{msg_id}.{timestamp}.".encode() + body
        for entry, key in zip(entries, keys):
            version, _, encoded = entry.partition(",")
            assert version == "v1a", entry
            key.public_key().verify(base64.b64decode(encoded), signed)
            checked += 1
        # cryptography signs, verify-signature --public-key checks; a tampered body fails.
        signature = base64.b64encode(newest.sign(signed)).decode()
        public = "whpk_" + base64.b64encode(newest.public_key().public_bytes_raw()).decode()
        header_args = ["--header", f"webhook-id: {msg_id}", "--header", f"webhook-timestamp: {timestamp}",
                       "--header", f"webhook-signature: v1a,{signature}"]
        good = subprocess.run([binary, "verify-signature", "--public-key", public] + header_args,
                              input=body, capture_output=True, timeout=60)
        assert good.returncode == 0, good.stderr
        bad = subprocess.run([binary, "verify-signature", "--public-key", public] + header_args,
                             input=body + b"x", capture_output=True, timeout=60)
        assert bad.returncode == 1, bad.stderr
    print(f"v1a interop: {checked} v1a entries from argus-events sign verified by cryptography; "
          f"20 cryptography-signed deliveries accepted and 20 tampered ones rejected by verify-signature")


if __name__ == "__main__":
    main()
