#!/usr/bin/env python3
"""Two infobank nodes on one PostgreSQL, under concurrent sign-ups, entrusts, consents,
disclosures and redemptions sent to both, both allowed to sequence the audit log (one leads at a
time, by a PostgreSQL advisory lock). Afterwards: every request that got a 2xx has its effect
(read back through the other node) and exactly one leaf, the audit log verifies end to end
(`infobank audit verify --url`: gap-free indices, recomputed root, signed head), the ledger
balances (`infobank coins check`), and the log and the tables reconcile (`infobank audit
reconcile`). Then the sequencing node is killed: the other takes over and integrates what is
written through it.

usage: two-nodes.py BINARY POSTGRES_URL   (a fresh, empty database)
"""
import base64
import collections
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from httpkit import decode, free_port, request  # noqa: E402  (a sibling file, not a package)

BIN, DB = sys.argv[1], sys.argv[2]
PASSWORD = "two nodes passphrase"
CITIZENS = 24
THREADS = 8


def call(base, method, path, token=None, body=None, form=None, basic=None):
    req = request(base, method, path, token, body, form, basic)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, decode(r.read())
    except urllib.error.HTTPError as e:
        return e.code, decode(e.read())


work = tempfile.mkdtemp()
keys = os.path.join(work, "keys")
env = dict(os.environ, INFOBANK_DATABASE_URL=DB, INFOBANK_KEY_DIR=keys, RUST_LOG="warn")


def cli(*args, stdin=None):
    out = subprocess.run([BIN, *args], env=dict(env, INFOBANK_DATA_DIR=os.path.join(work, "cli")),
                         input=stdin, capture_output=True, text=True, check=False, timeout=300)
    if out.returncode != 0:
        sys.exit(f"infobank {' '.join(args)} failed: {out.stderr}")
    return out.stdout


nodes, procs = [], []
for name in ("a", "b"):
    port = free_port()
    with open(os.path.join(work, f"node-{name}.log"), "wb") as log:
        procs.append(subprocess.Popen([BIN, "serve", "--listen", f"127.0.0.1:{port}"],
                                      env=dict(env, INFOBANK_DATA_DIR=os.path.join(work, name)),
                                      stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT))
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if call(base, "GET", "/readyz")[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    else:
        sys.exit(f"node {name} did not start")
    nodes.append(base)
    if name == "a":
        time.sleep(0.5)  # node a created the keys; node b uses the same key directory
A, B = nodes

try:
    cli("admin", "create-operator", "--email", "ops@two.example.jp", stdin=PASSWORD + "\n")
    cli("admin", "create-regulator", "--email", "fsa@two.example.jp", stdin=PASSWORD + "\n")
    operator = call(B, "POST", "/api/v1/auth/login", body={"email": "ops@two.example.jp", "password": PASSWORD})[1]["access_token"]
    status, applied = call(A, "POST", "/api/v1/companies", body={
        "legal_name": "Two Nodes K.K.", "corporate_number": "7000012050002",
        "contact_email": "dpo@two.example.jp", "privacy_policy_url": "https://two.example.jp/privacy",
        "security_certification": {"kind": "ISMS", "id": "IS 2", "expires_on": "2099-01-01"}})
    assert status == 201, applied
    company = applied["id"]
    assert call(B, "POST", f"/api/v1/operator/companies/{company}/approve", operator, body={})[0] == 200
    cli("coins", "fund", company, "100000")
    company_token = call(A, "POST", "/api/v1/oauth/token", form="grant_type=client_credentials",
                         basic=f"{applied['client_id']}:{applied['client_secret']}")[1]["access_token"]
    status, offer = call(B, "POST", "/api/v1/offers", company_token, body={
        "title": "Two nodes", "description": "A test offer.", "purpose": "research_statistics",
        "categories": ["residence"], "data_range_days": 30, "access": "periodic",
        "max_fetches_per_day": 10, "retention_days": 30, "consent_days": 30, "reward_coins": 7})
    assert status == 201, offer
    assert call(A, "POST", f"/api/v1/operator/offers/{offer['id']}/approve", operator, body={"reason": "ok"})[0] == 200

    results, failures, lock = [], [], threading.Lock()

    def citizen(n):
        # Alternate the nodes for every step, so each effect crosses from one node to the other.
        first, second = (A, B) if n % 2 == 0 else (B, A)
        email = f"citizen{n}@two.example.jp"
        effect = {"email": email}
        try:
            s, body = call(first, "POST", "/api/v1/citizens", body={"email": email, "password": PASSWORD, "display_name": "T"})
            assert s == 201, (s, body)
            token = call(second, "POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD})[1]["access_token"]
            effect["token"] = token
            s, record = call(first, "POST", "/api/v1/me/records", token, body={
                "category": "residence", "data": {"prefecture": "Tokyo", "city": f"City{n}", "postal_code": "100-0001"}})
            assert s == 201, (s, record)
            effect["record"] = record["id"]
            s, granted = call(second, "POST", "/api/v1/me/consents", token, body={"offer_id": offer["id"]})
            assert s == 201, (s, granted)
            effect["consent"] = granted["consent"]["id"]
            s, disclosed = call(first, "GET", f"/api/v1/consents/{effect['consent']}/data", company_token)
            assert s == 200 and disclosed["data"]["residence"][0]["data"]["city"] == f"City{n}", (s, disclosed)
            effect["disclosure"] = disclosed["disclosure_id"]
            s, redeemed = call(second, "POST", "/api/v1/me/coins/redeem", token, body={"amount": 5, "idempotency_key": f"r{n}"})
            assert s == 201, (s, redeemed)
            effect["redemption"] = redeemed["entry"]["id"]
        except Exception as e:  # noqa: BLE001 - every failure is reported below
            with lock:
                failures.append(f"citizen {n}: {e!r}")
        with lock:
            results.append(effect)

    threads = [threading.Thread(target=lambda k=k: [citizen(n) for n in range(k, CITIZENS, THREADS)]) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        sys.exit("requests failed:\n  " + "\n  ".join(failures))

    # Every 2xx left its effect, read back through both nodes (so through the one that did not
    # answer it, whichever that was).
    for effect in results:
        token = effect["token"]
        for node in (A, B):
            records = call(node, "GET", "/api/v1/me/records", token)[1]
            assert [r["id"] for r in records["records"]] == [effect["record"]], (node, records)
            consents = call(node, "GET", "/api/v1/me/consents", token)[1]
            assert [c["id"] for c in consents] == [effect["consent"]], (node, consents)
            disclosures = call(node, "GET", "/api/v1/me/disclosures", token)[1]
            assert [d["id"] for d in disclosures] == [effect["disclosure"]], (node, disclosures)
            coins = call(node, "GET", "/api/v1/me/coins", token)[1]
            assert effect["redemption"] in [e["id"] for e in coins["entries"]], (node, coins)
    print(f"two nodes: {CITIZENS} citizens, every 2xx effect found through both nodes")

    def queue_depth(node):
        return call(node, "GET", "/readyz")[1]["audit_queue"]["depth"]

    def drained(node, what):
        for _ in range(100):
            if queue_depth(node) == 0:
                return
            time.sleep(0.1)
        sys.exit(f"{what}: the audit queue did not drain within 10 s")

    def integrated_by(node):
        for line in call(node, "GET", "/metrics")[1].splitlines():
            if line.startswith("infobank_audit_leaves_integrated_total "):
                return float(line.split()[1])
        return 0.0

    drained(A, "after the load")
    regulator = call(A, "POST", "/api/v1/auth/login", body={"email": "fsa@two.example.jp", "password": PASSWORD})[1]["access_token"]
    entries, size = [], None
    while size is None or len(entries) < size:
        page = call(B, "GET", f"/api/v1/audit/entries?start={len(entries)}", regulator)[1]
        size = page["tree_size"] if size is None else size
        entries.extend(page["entries"])
    leaves = [json.loads(e["leaf"]) for e in entries[:size]]
    per_action = collections.Counter(leaf["action"] for leaf in leaves)
    for action in ("consent.granted", "data.disclosed", "coins.redeemed"):
        assert per_action[action] == CITIZENS, (action, per_action)
    hashes = [base64.b64decode(e["leaf_hash"]).hex() for e in entries[:size]]
    assert len(set(hashes)) == len(hashes), "a leaf hash appears twice"
    for effect in results:
        disclosures = call(A, "GET", "/api/v1/me/disclosures", effect["token"])[1]
        assert disclosures[0]["audit_leaf_hash"] in hashes, disclosures
    leaders = [n for n in (A, B) if integrated_by(n) > 0]
    print(f"two nodes: one leaf per effect ({dict(per_action)}); sequenced by node(s) {leaders}")

    time.sleep(1.2)  # a fresh signed tree head
    for base in (A, B):
        print(cli("audit", "verify", "--url", base, "--token", regulator).strip())
    print(cli("coins", "check").strip())
    print(cli("audit", "reconcile").strip())

    # The sequencing node dies: the other takes the advisory lock and integrates on its own.
    leader = leaders[-1]
    survivor = B if leader == A else A
    procs[nodes.index(leader)].kill()
    procs[nodes.index(leader)].wait(timeout=10)
    token = results[0]["token"]
    s, record = call(survivor, "POST", "/api/v1/me/records", token, body={
        "category": "hobbies", "data": {"items": ["go"]}})
    assert s == 201, (s, record)
    drained(survivor, "after the sequencing node was killed")
    assert integrated_by(survivor) > 0, "the surviving node never sequenced"
    time.sleep(1.2)  # a fresh signed tree head
    print(cli("audit", "verify", "--url", survivor, "--token", regulator).strip())
    print(cli("audit", "reconcile").strip())
    print("two nodes: the sequencing node was killed; the other took over")
    for name in ("a", "b"):
        with open(os.path.join(work, f"node-{name}.log"), errors="replace") as f:
            if "panicked" in f.read():
                sys.exit(f"node {name} panicked (its log: {work}/node-{name}.log)")
except BaseException:
    for name in ("a", "b"):
        try:
            with open(os.path.join(work, f"node-{name}.log"), errors="replace") as f:
                print(f"--- node {name}, last lines ---\n" + "\n".join(f.read().splitlines()[-30:]), file=sys.stderr)
        except OSError:
            pass
    raise
finally:
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=10)
