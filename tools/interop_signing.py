#!/usr/bin/env python3
"""Interop check: `argus-events sign` / `verify-signature` against the Standard Webhooks
reference library (PyPI `standardwebhooks`) and Python's own hmac.

For 200 bodies (empty, unicode, one of 1 MiB, the rest random JSON with random unicode text):
  * `argus-events sign` output has every DESIGN.md delivery header exactly once, the svix-*
    copies equal the webhook-* values, and the reference library verifies it;
  * x-argus-signature equals sha256=<hex HMAC-SHA256(key, body)> computed with Python's hmac;
  * during a rotation (two secrets) the reference library verifies with either secret;
  * a tampered body, a wrong secret and a stale timestamp (signed 600 s ago) are rejected by
    the reference library;
  * `argus-events verify-signature` agrees with the reference library on every case.

Usage: interop_signing.py --binary PATH/argus-events [--seed N] [--count N]
Prints `interop_signing: N passed, M failed` last; exits non-zero on any failure.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

DESIGN_HEADERS = [
    "content-type", "user-agent", "webhook-id", "webhook-timestamp", "webhook-signature",
    "svix-id", "svix-timestamp", "svix-signature",
    "x-argus-signature", "x-argus-event", "x-argus-delivery", "x-argus-attempt",
]
EVENT_TYPES = ["user.created", "user.login_failed", "security.account_locked", "webhook.test", "oauth.token_issued"]
UNICODE_POOL = "abcXYZ019 _-.,:;\"\\/{}[]\n\téàüßøÆЖжΩπ中文日本語한국어🚀🔐👩‍💻\u200b\u00a0"


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def expect(self, condition, what):
        if condition:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}", file=sys.stderr)
        return condition


def new_secret(rng, byte_count=32):
    return "whsec_" + base64.b64encode(bytes(rng.getrandbits(8) for _ in range(byte_count))).decode()


def key_of(secret):
    return base64.b64decode(secret[len("whsec_"):])


def make_bodies(rng, count):
    bodies = [b"", "Zoë 🚀 日本語 — ünïcödé {\"k\": \"✓\"}".encode()]
    filler = "".join(rng.choice(UNICODE_POOL) for _ in range(4096)).encode()
    mib = (filler * (1 + (1 << 20) // len(filler)))[: 1 << 20]
    # Cut on a character boundary (the reference library decodes the body as UTF-8), pad to 1 MiB.
    mib = mib.decode(errors="ignore").encode()
    bodies.append(mib + b"x" * ((1 << 20) - len(mib)))
    while len(bodies) < count:
        text = "".join(rng.choice(UNICODE_POOL) for _ in range(rng.randint(0, 2048)))
        envelope = {"id": f"evt_{rng.getrandbits(64):016x}", "type": rng.choice(EVENT_TYPES),
                    "offset": rng.randint(0, 10**9), "data": {"text": text, "n": rng.random()}}
        bodies.append(json.dumps(envelope, ensure_ascii=rng.random() < 0.3).encode())
    return bodies[:count]


def tamper(body):
    """The body with one ASCII byte changed (or one byte added), still valid UTF-8."""
    for position in range(len(body) - 1, -1, -1):
        if body[position] < 0x7E and body[position] > 0x20:
            return body[:position] + bytes([body[position] ^ 0x01]) + body[position + 1:]
    return body + b" "


def run(binary, args, body):
    return subprocess.run([binary, *args], input=body, capture_output=True, timeout=60)


def sign(binary, secrets, body, **options):
    args = ["sign"]
    for secret in secrets:
        args += ["--secret", secret]
    for flag, value in options.items():
        if value is not None:
            args += [f"--{flag}", str(value)]
    result = run(binary, args, body)
    if result.returncode != 0:
        raise RuntimeError(f"sign exited {result.returncode}: {result.stderr.decode(errors='replace')}")
    pairs = []
    for line in result.stdout.decode().splitlines():
        name, _, value = line.partition(": ")
        pairs.append((name, value))
    return pairs


def argus_verify(binary, secret, pairs, body):
    args = ["verify-signature", "--secret", secret]
    for name, value in pairs:
        args += ["--header", f"{name}: {value}"]
    result = run(binary, args, body)
    return result.returncode, result.stdout.decode(), result.stderr.decode(errors="replace")


def reference_verify(secret, pairs, body):
    try:
        Webhook(secret).verify(body, dict(pairs), json_parse=False)
        return True
    except WebhookVerificationError:
        return False


def check_case(checks, binary, label, secret, pairs, body, expect_authentic):
    reference = reference_verify(secret, pairs, body)
    checks.expect(reference == expect_authentic,
                  f"{label}: reference library said {'authentic' if reference else 'rejected'}")
    code, out, err = argus_verify(binary, secret, pairs, body)
    checks.expect(code in (0, 1), f"{label}: verify-signature exit {code} ({err.strip()})")
    checks.expect((code == 0) == reference,
                  f"{label}: verify-signature exit {code} disagrees with reference ({err.strip()})")
    if code == 0:
        checks.expect(out.strip() == "ok", f"{label}: verify-signature printed {out!r}")


def check_body(binary, index, body, rng_seed):
    rng = random.Random(rng_seed)
    checks = Checks()
    label = f"body {index} ({len(body)} bytes)"
    secret = new_secret(rng, 24 if index % 7 == 3 else 32)
    event = rng.choice(EVENT_TYPES)
    attempt = rng.randint(1, 4)
    pairs = sign(binary, [secret], body, event=event, attempt=attempt)
    headers = dict(pairs)

    checks.expect([name for name, _ in pairs] == DESIGN_HEADERS, f"{label}: header names {[n for n, _ in pairs]}")
    checks.expect(all(headers.get("svix-" + n) == headers.get("webhook-" + n) for n in ("id", "timestamp", "signature")),
                  f"{label}: svix-* differ from webhook-*")
    checks.expect(headers.get("x-argus-delivery") == headers.get("webhook-id"), f"{label}: x-argus-delivery")
    checks.expect(headers.get("x-argus-event") == event and headers.get("x-argus-attempt") == str(attempt),
                  f"{label}: event/attempt headers")
    checks.expect(headers.get("content-type") == "application/json", f"{label}: content-type")
    checks.expect(headers.get("user-agent", "").startswith("Argus-Webhooks/"), f"{label}: user-agent")
    expected_argus = "sha256=" + hmac.new(key_of(secret), body, hashlib.sha256).hexdigest()
    checks.expect(headers.get("x-argus-signature") == expected_argus, f"{label}: x-argus-signature differs from Python hmac")
    expected_v1 = "v1," + base64.b64encode(hmac.new(
        key_of(secret), f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body, hashlib.sha256
    ).digest()).decode()
    checks.expect(headers.get("webhook-signature") == expected_v1, f"{label}: webhook-signature differs from Python hmac")

    check_case(checks, binary, f"{label} authentic", secret, pairs, body, True)

    # One non-authentic variant per body, cycling through the three kinds.
    kind = index % 3
    if kind == 0:
        tampered = tamper(body)
        check_case(checks, binary, f"{label} tampered body", secret, pairs, tampered, False)
    elif kind == 1:
        check_case(checks, binary, f"{label} wrong secret", new_secret(rng), pairs, body, False)
    else:
        stale = sign(binary, [secret], body, timestamp=int(time.time()) - 600)
        check_case(checks, binary, f"{label} stale timestamp", secret, stale, body, False)

    # Every tenth body: a rotation; both secrets verify, newest signature first.
    if index % 10 == 0:
        newest = new_secret(rng)
        rotated = sign(binary, [newest, secret], body)
        entries = dict(rotated)["webhook-signature"].split(" ")
        checks.expect(len(entries) == 2, f"{label} rotation: {len(entries)} signature entries")
        for which, key in (("newest", newest), ("older", secret)):
            check_case(checks, binary, f"{label} rotation, {which} secret", key, rotated, body, True)
    return checks


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True, help="path to the argus-events executable")
    parser.add_argument("--seed", type=int, default=20260605)
    parser.add_argument("--count", type=int, default=200)
    options = parser.parse_args()
    if not os.access(options.binary, os.X_OK):
        print(f"interop_signing: {options.binary} is not executable", file=sys.stderr)
        return 2

    rng = random.Random(options.seed)
    bodies = make_bodies(rng, options.count)
    assert len(bodies[2]) == 1 << 20
    started = time.monotonic()
    total = Checks()
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(check_body, options.binary, index, body, options.seed * 1000 + index)
                   for index, body in enumerate(bodies)]
        for future in futures:
            try:
                result = future.result()
                total.passed += result.passed
                total.failed += result.failed
            except Exception as error:  # a crash of one case is a failure, not an abort
                total.failed += 1
                print(f"FAIL: {error}", file=sys.stderr)
    elapsed = time.monotonic() - started
    print(f"interop_signing: {len(bodies)} bodies (seed {options.seed}) in {elapsed:.1f} s")
    print(f"interop_signing: {total.passed} passed, {total.failed} failed")
    return 0 if total.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
