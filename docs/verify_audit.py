#!/usr/bin/env python3
"""Verify an infobank audit log without any infobank code (docs/audit.md).

Downloads the signed tree head, the bank's published keys and every log entry; recomputes each
RFC 6962 leaf hash and the Merkle root; checks the Ed25519 signature over the documented bytes.

    python3 verify_audit.py https://bank.example --token "$REGULATOR_TOKEN"
    python3 verify_audit.py https://bank.example --email fsa@example.jp --password-stdin

Needs only the standard library and the `cryptography` package. Exit 0 valid, 1 invalid.
"""
import argparse
import base64
import hashlib
import json
import struct
import sys
import urllib.request
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def get(base, path, token=None, body=None):
    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode())
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req) as resp:
        return json.load(resp)


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(hashes):
    """RFC 6962 section 2.1: split at the largest power of two smaller than n."""
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(root(hashes[:k]), root(hashes[k:]))


def signed_bytes(tree_size: int, timestamp_ms: int, root_hash: bytes) -> bytes:
    return b"INFOBANK-STH-V1\n" + struct.pack(">QQ", tree_size, timestamp_ms) + root_hash


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("--token")
    parser.add_argument("--email")
    parser.add_argument("--password-stdin", action="store_true")
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    token = args.token
    if not token:
        password = sys.stdin.readline().rstrip("\n")
        token = get(base, "/api/v1/auth/login", body={"email": args.email, "password": password})["access_token"]

    sth = get(base, "/api/v1/audit/sth")
    keys = {k["kid"]: k for k in get(base, "/.well-known/jwks.json")["keys"]}
    jwk = keys[sth["key_id"]]
    public_key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk["x"] + "=="))
    timestamp = datetime.fromisoformat(sth["timestamp"].replace("Z", "+00:00"))
    timestamp_ms = round(timestamp.timestamp() * 1000)
    root_hash = base64.b64decode(sth["root_hash"])
    try:
        public_key.verify(base64.b64decode(sth["signature"]), signed_bytes(sth["tree_size"], timestamp_ms, root_hash))
    except InvalidSignature:
        print("invalid: the tree head's signature does not verify", file=sys.stderr)
        return 1

    hashes = []
    while len(hashes) < sth["tree_size"]:
        start = len(hashes)
        end = min(start + 1000, sth["tree_size"])
        for entry in get(base, f"/api/v1/audit/entries?start={start}&end={end}", token)["entries"]:
            h = leaf_hash(entry["leaf"].encode("utf-8"))
            if base64.b64encode(h).decode() != entry["leaf_hash"]:
                print(f"invalid: entry {entry['index']} does not hash to its recorded hash", file=sys.stderr)
                return 1
            hashes.append(h)
    if root(hashes) != root_hash:
        print("invalid: the recomputed root does not match the signed root", file=sys.stderr)
        return 1
    print(f"valid: {sth['tree_size']} entries, root {sth['root_hash']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
