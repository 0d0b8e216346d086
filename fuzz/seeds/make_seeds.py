#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/seeds/<target>/ (committed; .ci/fuzz.sh copies them into
fuzz/corpus/). Rerun after changing an input format: python3 fuzz/seeds/make_seeds.py

Needs the `cryptography` package (as docs/verify_audit.py does) for the signed tree head seed.
"""
import base64
import hashlib
import json
import pathlib
import shutil
import struct
from datetime import datetime, timezone

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HERE = pathlib.Path(__file__).resolve().parent
VECTORS = HERE.parent.parent / "crates" / "audit" / "testdata" / "rfc6962"


def write(target, name, data):
    d = HERE / target
    d.mkdir(exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def b64(b):
    return base64.b64encode(b).decode()


def leaf_hash(leaf):
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_of(hashes):
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return node_hash(root_of(hashes[:k]), root_of(hashes[k:]))


for target in ["import_parse", "category_validate", "canonical_json", "verifier_responses"]:
    shutil.rmtree(HERE / target, ignore_errors=True)

# import_parse: first byte even = CSV, odd = JSON.
header = "date,merchant,amount,currency,method,merchant_category\n"
write("import_parse", "csv-valid", b"\x00" + (header + "2026-11-20,Ito Yokado,1280,JPY,qr,grocery\n"
      "2026-11-21,\"Cafe, Kanda\",450,JPY,card,restaurant\n").encode())
write("import_parse", "csv-bom-reordered-bad-rows", b"\x00" + ("\ufeffamount,date,merchant,currency,method,merchant_category\n"
      " 12 ,2026-02-30,X,JPY,cash,other\n1,2026-11-20\n-5,2026-11-20,Y,EUR,qr,travel,extra\n").encode()
      + b"7,2026-11-20,\xff\xfe,JPY,qr,grocery\n")
write("import_parse", "json-valid", b"\x01" + json.dumps([
    {"date": "2026-11-20", "merchant": "Ito Yokado", "amount": 1280, "currency": "JPY", "method": "qr",
     "merchant_category": "grocery"},
    {"date": "2026-11-20", "merchant": "A", "amount": 1.5, "currency": "XXX", "method": "qr",
     "merchant_category": "grocery", "card": "4242 4242 4242 4242"},
    "not an object",
]).encode())

# category_validate: category index byte, then 1 = raw JSON follows.
examples = {
    "birth_date": {"date": "1990-04-01"},
    "residence": {"prefecture": "Tokyo", "city": "Chiyoda", "postal_code": "1000001"},
    "family_structure": {"household_size": 3, "members": [{"relation": "child", "birth_year": 2015}]},
    "hobbies": {"items": ["cycling", "go"]},
    "preferences": {"items": ["quiet"]},
    "daily_mood": {"date": "2026-11-20", "score": 4, "note": "\u2026"},
    "physical_condition": {"date": "2026-11-20", "sleep_hours": 7.5, "steps": 8000, "weight_kg": 61.2,
                           "body_temp_c": 36.5},
    "payment_history": {"date": "2026-11-20", "merchant": "M", "amount": 1280, "currency": "JPY", "method": "qr",
                        "merchant_category": "grocery"},
    "education": {"level": "bachelor", "institution": "U", "graduation_year": 2010},
    "employment": {"employer": "E", "title": "T", "work_address": "A", "years": 3},
    "drivers_license": {"class": "ordinary", "expires_on": "2030-01-01", "verified": True},
    "vehicle": {"make": "Toyota", "model": "Prius", "year": 2020},
    "real_estate": {"kind": "apartment", "ownership": "rented", "prefecture": "Osaka"},
    "insurance": {"kind": "life", "insurer": "I", "monthly_premium": 5000},
    "credit_card": {"issuer": "X", "brand": "visa", "last4": "4242"},
    "identity_document": {"type": "passport", "masked_number": "TK****123", "verified": False},
}
for i, (name, example) in enumerate(examples.items()):
    write("category_validate", f"{i:02}-{name}", bytes([i, 1]) + json.dumps(example, ensure_ascii=False).encode())

# canonical_json: JSON documents.
write("canonical_json", "leaf", json.dumps({
    "index": 12, "time": "2026-11-20T09:00:00.000Z", "action": "consent.granted",
    "actor": {"role": "citizen", "id": "01a2"}, "company": None, "objects": {"consent": "c1", "offer": "o1"}}))
write("canonical_json", "unicode-keys", '{"\\ud83d\\ude00":1,"\\uff61":2,"b":[true,null,"x\\n\\"q\\""],"A":-3,"":{}}')
write("canonical_json", "float", '{"x":[1.5,-0,1e3,18446744073709551615,-9223372036854775808]}')

# verifier_responses: first byte picks the kind (0 head+JWKS, 1 head+entries, 2 consistency doc,
# 3 inclusion file, 4 consistency file); NUL separates documents.
key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
kid = hashlib.sha256(public).digest()[:8].hex()
leaves = [json.dumps({"index": i, "action": "account.created"}, separators=(",", ":")).encode() for i in range(3)]
hashes = [leaf_hash(leaf) for leaf in leaves]
root = root_of(hashes)
when = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
ms = int(when.timestamp() * 1000)
signature = key.sign(b"INFOBANK-STH-V1\n" + struct.pack(">QQ", len(leaves), ms) + root)
head = json.dumps({"tree_size": len(leaves), "root_hash": b64(root), "timestamp": "2026-11-20T09:00:00.000Z",
                   "signature": b64(signature), "key_id": kid})
jwks = json.dumps({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": kid, "alg": "EdDSA", "use": "sig",
                             "x": base64.urlsafe_b64encode(public).decode().rstrip("=")}]})
entries = json.dumps({"tree_size": 3, "entries": [
    {"index": i, "leaf": leaf.decode(), "leaf_hash": b64(h)} for i, (leaf, h) in enumerate(zip(leaves, hashes))]})
write("verifier_responses", "head-jwks", b"\x00" + head.encode() + b"\x00" + jwks.encode())
write("verifier_responses", "head-entries", b"\x01" + head.encode() + b"\x00" + entries.encode())
write("verifier_responses", "consistency-doc", b"\x02" + struct.pack(">QQ", 2, 3) + root_of(hashes[:2]) + root
      + b"\x00" + json.dumps({"proof": [b64(hashes[2])]}).encode())
for kind, byte in [("inclusion", 3), ("consistency", 4)]:
    for path in sorted((VECTORS / kind / "1").glob("*.json"))[:6]:
        write("verifier_responses", f"{kind}-{path.stem}", bytes([byte]) + path.read_bytes())
