#!/usr/bin/env python3
"""Writes the SHA-512 reference table used by CryptoTests: one line per length 0..300,
`<length> <hex digest>`, for the message bytes (i * 7 + length) % 256 for i in range(length)
(the same messages as gen_sha256_table.py). Generated once with Python's hashlib and committed;
rerun only to check it."""
import hashlib
import sys

def message(length):
    return bytes((i * 7 + length) % 256 for i in range(length))

lines = [f"{n} {hashlib.sha512(message(n)).hexdigest()}" for n in range(301)]
out = sys.argv[1] if len(sys.argv) > 1 else "Tests/CryptoTests/Fixtures/sha512-lengths.txt"
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
