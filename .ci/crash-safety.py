#!/usr/bin/env python3
"""Crash safety: kill -9 an infobank server in the middle of concurrent writes, restart it on the
same database and keys, and check that nothing answered 2xx was lost and nothing is half-written.

Each cycle runs sign-ups, entrusts, consents, disclosures and redemptions from several threads,
saves the signed tree head and acknowledges it as the regulator's checkpoint, then SIGKILLs the
server while requests are in flight. Requests that die with the server are "unknown": never
counted as 2xx. After the restart:

- every 2xx has its effect, read back through the API (sign-ups log in, and their tokens from
  before the crash still work; records with their data, consents, disclosures, redemptions);
- unknown outcomes are resolved: a sign-up can log in or not, a consent retried is granted or
  `already_consented`, a redemption retried with its idempotency key is replayed or new (and a
  2xx redemption replayed gives the same entry): never twice;
- nothing is half-written: every account, record, consent, disclosure and coin entry has its
  audit leaf (and every consent leaf its consent, every disclosure leaf a use of its consent, every
  coin leaf a ledger entry), each disclosure belongs to one of the citizen's consents, wallets sum
  to their balances, `infobank coins check` balances the ledger, and `infobank audit reconcile`
  finds every row of the tables the log speaks for with its leaf and every such leaf with its row;
- the log verifies (`infobank audit verify --url`), the head signed before the kill is a prefix of
  the head after it (`infobank audit verify-consistency` on the server's proof, `infobank audit
  verify --log --sth --jwks` on the first entries against the old head and the JWKS saved before
  the crash), and the regulator's checkpoint is still there and consistent;
- the server logged no panic.

usage: crash-safety.py BINARY [POSTGRES_URL]   (default: the embedded SQLite in a fresh data
directory; with a URL, that fresh, empty PostgreSQL database)
"""
import base64
import collections
import concurrent.futures
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from httpkit import decode, free_port, request  # noqa: E402  (a sibling file, not a package)

if len(sys.argv) not in (2, 3):
    sys.exit(__doc__)
BIN = os.path.abspath(sys.argv[1])
PG = sys.argv[2] if len(sys.argv) == 3 else None
BACKEND = "PostgreSQL" if PG else "SQLite"
PASSWORD = "crash safety passphrase"
CYCLES = 3
THREADS = 8
SEED = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
rng = random.Random(SEED)
started_at = time.monotonic()


class Failure(Exception):
    pass


class Lost(Exception):
    """The connection failed: the request's outcome is unknown (or it never reached a server)."""


def call(base, method, path, token=None, body=None, form=None, basic=None, timeout=30):
    """(status, decoded body). Connection failures raise Lost(kind) with kind 'refused' (nothing
    was sent) or 'unknown' (the request may or may not have been executed)."""
    req = request(base, method, path, token, body, form, basic)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, decode(r.read())
    except urllib.error.HTTPError as e:
        try:
            return e.code, decode(e.read())
        except (OSError, http.client.HTTPException) as e2:
            raise Lost("unknown") from e2
    except (OSError, http.client.HTTPException) as e:
        reason = e.reason if isinstance(e, urllib.error.URLError) else e
        raise Lost("refused" if isinstance(reason, ConnectionRefusedError) else "unknown") from e


work = tempfile.mkdtemp(prefix="infobank-crash-")
env = dict(os.environ, INFOBANK_DATA_DIR=os.path.join(work, "data"), RUST_LOG=os.environ.get("RUST_LOG", "warn"),
           INFOBANK_RATE_LIMIT_LOGIN="0", INFOBANK_RATE_LIMIT_TOKEN="0", INFOBANK_RATE_LIMIT_DISCLOSURE="0",
           # Sign-ins hash with argon2 on two shared cores: room enough that the load never sees
           # 503 database_busy, which this test would count as a failure.
           INFOBANK_POOL_SIZE="16", INFOBANK_POOL_TIMEOUT_MS="30000",
           # A slow sequencer, so that every kill finds committed leaves still queued: the restart
           # must integrate them (the production default polls every 25 ms).
           INFOBANK_SEQUENCER_POLL_MS="1500", INFOBANK_MERGE_DELAY_MS="5000")
env.pop("INFOBANK_CONFIG", None)
if PG:
    env["INFOBANK_DATABASE_URL"] = PG
    env["INFOBANK_KEY_DIR"] = os.path.join(work, "keys")
else:  # the embedded default: <data dir>/infobank.db and <data dir>/keys
    env.pop("INFOBANK_DATABASE_URL", None)
    env.pop("INFOBANK_KEY_DIR", None)


def cli(*args, stdin=None):
    out = subprocess.run([BIN, *args], env=env, input=stdin, capture_output=True, text=True, check=False, timeout=120)
    if out.returncode != 0:
        raise Failure(f"infobank {' '.join(args)} failed (exit {out.returncode}): {out.stdout}{out.stderr}")
    return out.stdout.strip()


class Server:
    """`infobank serve`, started again and again on the same database and keys (a fresh port each
    time, so a dying socket never delays the next start)."""

    def __init__(self):
        self.proc = None
        self.base = None
        self.starts = 0
        self.logs = []

    def start(self, attempts=3):
        for attempt in range(attempts):
            try:
                return self._start()
            except Failure as e:
                # Another process took the free port between our probe and the server's bind.
                if "cannot listen" not in str(e) or attempt == attempts - 1:
                    raise

    def _start(self):
        self.starts += 1
        port = free_port()
        log_path = os.path.join(work, f"server-{self.starts}.log")
        self.logs.append(log_path)
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen([BIN, "serve", "--listen", f"127.0.0.1:{port}"], env=env,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                with open(log_path, errors="replace") as f:
                    if "cannot listen" in f.read():
                        raise Failure(f"server start {self.starts}: cannot listen on port {port}")
                raise Failure(f"server start {self.starts} exited with {self.proc.returncode} (its output is below)")
            try:
                status, body = call(self.base, "GET", "/readyz", timeout=5)
                if status == 200:
                    return
            except Lost:
                pass
            time.sleep(0.1)
        raise Failure(f"server start {self.starts}: /readyz not 200 within 60 s (its output is below)")

    def kill9(self):
        # A server that died on its own before the kill must not pass for a crash we caused.
        if self.proc.poll() is not None:
            raise Failure(f"the server exited by itself (status {self.proc.returncode}) before the kill")
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self, n=40):
        out = []
        for path in self.logs:
            try:
                with open(path, errors="replace") as f:
                    lines = f.read().splitlines()
            except OSError:
                continue
            if lines:
                out.append(f"--- {os.path.basename(path)} (last {min(n, len(lines))} lines)")
                out.extend(lines[-n:])
        return "\n".join(out) or "(the server logged nothing)"


server = Server()

# ---- bookkeeping: what was answered 2xx, what is unknown ----

lock = threading.Lock()
ok = collections.Counter()        # kind -> requests answered 2xx
lost = collections.Counter()      # (kind, 'unknown'|'refused') -> requests that died with the server
resolved = collections.Counter()  # how unknown outcomes turned out after the restart
errors = []                       # non-2xx answers and wrong answers: real failures
citizens = []                     # every Citizen whose sign-up was attempted


class Citizen:
    def __init__(self, n, cycle):
        self.n = n
        self.cycle = cycle
        self.email = f"crash{n}@crash.example.jp"
        self.id = None           # set once the sign-up is known to have happened
        self.signup_unknown = False
        self.token = None        # issued before a crash, reused after it
        self.records = {}        # id -> data, answered 201
        self.consent = None
        self.disclosure = None
        self.redemption = None   # entry id, answered 201 (or settled after the restart)
        self.redeem_key = f"redeem-{n}"
        self.cut = None          # the step whose outcome is unknown; the chain stopped there
        self.pending = None      # the data of an entrust whose outcome is unknown
        self.replay_checked = False


def step(cit, kind, method, path, token=None, body=None, form=None, basic=None, expect=(201,)):
    try:
        status, answer = call(server.base, method, path, token, body, form, basic, timeout=20)
    except Lost as e:
        with lock:
            lost[(kind, e.args[0])] += 1
        if e.args[0] == "unknown":
            cit.cut = kind
        raise
    if status not in expect:
        with lock:
            errors.append(f"{kind} for {cit.email}: HTTP {status} {answer}")
        raise Failure(kind)
    with lock:
        ok[kind] += 1
    return answer


def chain(cit, company_token, offer_id):
    """One citizen's stream of writes; stops at the first request whose outcome is not a 2xx."""
    signed = step(cit, "sign-up", "POST", "/api/v1/citizens",
                  body={"email": cit.email, "password": PASSWORD, "display_name": f"Crash {cit.n}"})
    cit.id = signed["id"]
    cit.token = step(cit, "login", "POST", "/api/v1/auth/login", body={"email": cit.email, "password": PASSWORD},
                     expect=(200,))["access_token"]
    for category, data in (("residence", {"prefecture": "Tokyo", "city": f"City{cit.n}", "postal_code": "100-0001"}),
                           ("hobbies", {"items": [f"hobby{cit.n}"]})):
        cit.pending = data
        record = step(cit, "entrust", "POST", "/api/v1/me/records", cit.token, body={"category": category, "data": data})
        cit.records[record["id"]] = data
        cit.pending = None
    granted = step(cit, "consent", "POST", "/api/v1/me/consents", cit.token, body={"offer_id": offer_id})
    cit.consent = granted["consent"]["id"]
    disclosed = step(cit, "disclosure", "GET", f"/api/v1/consents/{cit.consent}/data", company_token, expect=(200,))
    city = (disclosed.get("data", {}).get("residence") or [{}])[0].get("data", {}).get("city")
    if city != f"City{cit.n}" or disclosed.get("consent_id") != cit.consent:
        with lock:
            errors.append(f"disclosure for {cit.email}: wrong content {disclosed}")
        raise Failure("disclosure")
    cit.disclosure = disclosed["disclosure_id"]
    redeemed = step(cit, "redemption", "POST", "/api/v1/me/coins/redeem", cit.token,
                    body={"amount": 5, "idempotency_key": cit.redeem_key})
    cit.redemption = redeemed["entry"]["id"]


# ---- the load: THREADS workers, gated so that none is mid-chain while the server restarts ----

gate = threading.Condition()
load_on = False
finished = False
active = 0
next_n = 0


def worker(company_token, offer_id, cycle_ref):
    global active, next_n
    while True:
        with gate:
            while not load_on and not finished:
                gate.wait()
            if finished:
                return
            active += 1
            next_n += 1
            cit = Citizen(next_n, cycle_ref[0])
            citizens.append(cit)
        try:
            chain(cit, company_token, offer_id)
        except (Lost, Failure):
            pass
        except Exception as e:  # noqa: BLE001 - reported as a failure below
            with lock:
                errors.append(f"citizen {cit.email}: {e!r}")
        finally:
            if cit.cut == "sign-up":
                cit.signup_unknown = True
            with gate:
                active -= 1
                gate.notify_all()


# ---- checks after a restart ----

def get_ok(path, token, what):
    status, body = call(server.base, "GET", path, token)
    if status != 200:
        raise Failure(f"{what}: GET {path} -> HTTP {status} {body}")
    return body


def login(email):
    status, body = call(server.base, "POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD})
    return status, body


def resolve_unknown(cit, offer_id):
    """Settles a chain cut by the crash: finds out whether the unknown request happened, and
    retries the idempotent ones. Returns a problem or None."""
    if cit.cut == "sign-up":
        status, body = login(cit.email)
        if status == 200:
            cit.token = body["access_token"]
            cit.id = get_ok("/api/v1/me", cit.token, cit.email)["id"]
            resolved["sign-up: committed before the crash"] += 1
        elif status == 401:
            resolved["sign-up: not committed"] += 1
        else:
            return f"{cit.email}: login after an unknown sign-up -> HTTP {status} {body}"
    elif cit.cut == "login":
        status, body = login(cit.email)
        if status != 200:
            return f"{cit.email}: signed up (201) but login after the restart -> HTTP {status} {body}"
        cit.token = body["access_token"]
        resolved["login: retried"] += 1
    elif cit.cut == "consent":
        status, body = call(server.base, "POST", "/api/v1/me/consents", cit.token, body={"offer_id": offer_id})
        if status == 201:
            cit.consent = body["consent"]["id"]
            resolved["consent: not committed, granted on retry"] += 1
        elif status == 409 and isinstance(body, dict) and body.get("code") == "already_consented":
            mine = [c for c in get_ok("/api/v1/me/consents", cit.token, cit.email) if c["offer_id"] == offer_id]
            if len(mine) != 1:
                return f"{cit.email}: already_consented, yet {len(mine)} consents to the offer: {mine}"
            cit.consent = mine[0]["id"]
            resolved["consent: committed before the crash (already_consented on retry)"] += 1
        else:
            return f"{cit.email}: consent retried after the restart -> HTTP {status} {body}"
    elif cit.cut == "redemption":
        status, body = call(server.base, "POST", "/api/v1/me/coins/redeem", cit.token,
                            body={"amount": 5, "idempotency_key": cit.redeem_key})
        if status not in (200, 201):
            return f"{cit.email}: redemption retried with its key -> HTTP {status} {body}"
        cit.redemption = body["entry"]["id"]
        cit.replay_checked = True
        resolved["redemption: committed before the crash (replayed)" if status == 200
                 else "redemption: not committed, made on retry"] += 1
    elif cit.cut == "entrust":
        extra = [r for r in get_ok("/api/v1/me/records", cit.token, cit.email)["records"]
                 if r["id"] not in cit.records and r["data"] == cit.pending]
        if len(extra) > 1:
            return f"{cit.email}: one entrust, {len(extra)} records: {extra}"
        for r in extra:
            cit.records[r["id"]] = r["data"]
        resolved["entrust: committed before the crash" if extra else "entrust: not committed"] += 1
    elif cit.cut == "disclosure":
        mine = [d for d in get_ok("/api/v1/me/disclosures", cit.token, cit.email) if d["consent_id"] == cit.consent]
        if len(mine) > 1:
            return f"{cit.email}: one disclosure request, {len(mine)} disclosures: {mine}"
        if mine:
            cit.disclosure = mine[0]["id"]
        resolved["disclosure: committed before the crash" if mine else "disclosure: not committed"] += 1
    cit.cut = None
    return None


def check_citizen(cit, offer_id, company_id):
    """Every effect answered 2xx is there; returns (problems, references for the log checks)."""
    problems = []
    refs = {"records": set(), "disclosures": [], "coin_entries": [], "consents": set()}
    # The token issued before the crash is still good (the keys persist).
    status, me = call(server.base, "GET", "/api/v1/me", cit.token)
    if status != 200 or me.get("id") != cit.id:
        return [f"{cit.email}: its token from before the restart -> HTTP {status} {me}"], refs
    status, body = login(cit.email)
    if status != 200:
        problems.append(f"{cit.email}: signed up, but login -> HTTP {status} {body}")
    token = cit.token

    records = get_ok("/api/v1/me/records", token, cit.email)["records"]
    by_id = {r["id"]: r for r in records}
    refs["records"] = set(by_id)
    for rid, data in cit.records.items():
        if rid not in by_id:
            problems.append(f"{cit.email}: record {rid} (answered 201) is missing after the restart")
        elif by_id[rid]["data"] != data:
            problems.append(f"{cit.email}: record {rid} reads back as {by_id[rid]['data']}, not {data}")

    consents = get_ok("/api/v1/me/consents", token, cit.email)
    ids = {c["id"] for c in consents}
    refs["consents"] = ids
    to_offer = [c for c in consents if c["offer_id"] == offer_id]
    if len(to_offer) > 1:
        problems.append(f"{cit.email}: {len(to_offer)} consents to one offer: {to_offer}")
    if cit.consent and cit.consent not in ids:
        problems.append(f"{cit.email}: consent {cit.consent} (answered 201) is missing after the restart")

    disclosures = get_ok("/api/v1/me/disclosures", token, cit.email)
    refs["disclosures"] = disclosures
    for d in disclosures:
        if d["consent_id"] not in ids or d["company_id"] != company_id:
            problems.append(f"{cit.email}: disclosure {d['id']} under consent {d['consent_id']}, not one of its consents {sorted(ids)}")
    if cit.disclosure and cit.disclosure not in {d["id"] for d in disclosures}:
        problems.append(f"{cit.email}: disclosure {cit.disclosure} (answered 200) is missing after the restart")
    uses = {c["id"]: c["uses"] for c in consents}
    for cid, n in collections.Counter(d["consent_id"] for d in disclosures).items():
        if uses.get(cid) != n:
            problems.append(f"{cit.email}: consent {cid} counts {uses.get(cid)} uses, the citizen sees {n} disclosures")

    wallet = get_ok("/api/v1/me/coins?limit=200", token, cit.email)
    entries = wallet["entries"]
    refs["coin_entries"] = entries
    if wallet.get("next_before") is None and sum(e["amount"] for e in entries) != wallet["balance"]:
        problems.append(f"{cit.email}: wallet entries sum to {sum(e['amount'] for e in entries)}, balance {wallet['balance']}")
    if wallet["balance"] < 0:
        problems.append(f"{cit.email}: negative balance {wallet['balance']}")
    redemptions = [e for e in entries if e["reason"] == "redemption"]
    if len(redemptions) > 1:
        problems.append(f"{cit.email}: one redemption key, {len(redemptions)} redemptions: {redemptions}")
    if cit.redemption and cit.redemption not in {e["id"] for e in entries}:
        problems.append(f"{cit.email}: redemption {cit.redemption} (answered 201) is missing after the restart")
    if cit.redemption and not cit.replay_checked:
        # The idempotency key survived the crash: a retry replays the first entry, moves nothing.
        status, body = call(server.base, "POST", "/api/v1/me/coins/redeem", token,
                            body={"amount": 5, "idempotency_key": cit.redeem_key})
        if status != 200 or body["entry"]["id"] != cit.redemption:
            problems.append(f"{cit.email}: redemption {cit.redemption} replayed with its key -> HTTP {status} {body}")
        cit.replay_checked = True
    return problems, refs


def queue_depth():
    status, body = call(server.base, "GET", "/readyz")
    if status != 200:
        raise Failure(f"/readyz -> HTTP {status} {body}")
    return body["audit_queue"]["depth"]


def download_log(regulator):
    """The log as it was at the first page read (every read appends an `audit.read` leaf), once
    the sequencer has integrated what the checks before it queued."""
    deadline = time.monotonic() + 30
    while queue_depth() > 0:
        if time.monotonic() > deadline:
            raise Failure(f"audit queue not empty 30 s after the restart ({queue_depth()} leaves)")
        time.sleep(0.2)
    first = get_ok("/api/v1/audit/entries?start=0", regulator, "the audit log")
    entries, size = first["entries"], first["tree_size"]
    while len(entries) < size:
        end = min(len(entries) + 1000, size)
        page = get_ok(f"/api/v1/audit/entries?start={len(entries)}&end={end}", regulator, "the audit log")["entries"]
        if not page:
            raise Failure(f"audit entries: empty page at {len(entries)} of {size}")
        entries.extend(page)
    entries = entries[:size]
    for i, e in enumerate(entries):
        if e["index"] != i:
            raise Failure(f"audit entries: entry {i} has index {e['index']}")
    return entries


def check_all(cycle, regulator, company_token, company_id, offer_id, before, jwks_before):
    """Runs every check after restart number `cycle`; returns the list of checks passed."""
    passed = []
    wdir = os.path.join(work, f"check-{cycle}")
    os.makedirs(wdir)

    # The regulator's token from before the crash still works, and the checkpoint it acknowledged
    # (answered 200 before the kill) is still there, consistent with today's head.
    status, cp = call(server.base, "GET", "/api/v1/audit/checkpoint", regulator)
    if status != 200:
        raise Failure(f"regulator token from before the restart: GET /api/v1/audit/checkpoint -> HTTP {status} {cp}")
    ack = before["checkpoint"]
    if (cp["status"] != "consistent" or cp["checkpoint_tree_size"] != ack["checkpoint_tree_size"]
            or cp["checkpoint_root_hash"] != ack["checkpoint_root_hash"]):
        raise Failure(f"the checkpoint acknowledged before the kill {ack} is now {cp}")
    passed.append("checkpoint kept and consistent")

    # Settle the unknown outcomes, then read back every 2xx effect (in parallel).
    problems = [p for p in (resolve_unknown(c, offer_id) for c in citizens if c.cut) if p]
    for c in citizens:
        if c.id and not c.token:  # its login was refused by the dying server: log in now
            status, body = login(c.email)
            if status == 200:
                c.token = body["access_token"]
            else:
                problems.append(f"{c.email}: signed up (201) but login after the restart -> HTTP {status} {body}")
    known = [c for c in citizens if c.id and c.token]
    refs = []
    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        for p, r in pool.map(lambda c: check_citizen(c, offer_id, company_id), known):
            problems.extend(p)
            refs.append(r)
    if problems:
        raise Failure("effects answered 2xx, after the restart:\n  " + "\n  ".join(problems))
    passed.append(f"{len(known)} citizens: every 2xx effect read back, old tokens valid, log-ins work, retries idempotent")

    # Nothing half-written: cross-check the rows against the audit log and the ledger.
    held, before_id = [], None
    while True:
        page = get_ok("/api/v1/consents" + (f"?before={before_id}" if before_id else ""), company_token, "held consents")
        held.extend(page)
        if len(page) < 200:
            break
        before_id = page[-1]["id"]
    log = download_log(regulator)
    leaves = [json.loads(e["leaf"]) for e in log]
    # Rows name their leaf by hash (hex); the entries show it in base64.
    by_hash = {base64.b64decode(e["leaf_hash"]).hex(): leaf for e, leaf in zip(log, leaves)}
    by_action = collections.defaultdict(list)
    for leaf in leaves:
        by_action[leaf["action"]].append(leaf["objects"])
    accounts = {o.get("account") for o in by_action["account.created"]}
    records = {o.get("record") for o in by_action["record.created"]}
    granted = collections.Counter(o.get("consent") for o in by_action["consent.granted"])
    disclosed = collections.Counter(o.get("consent") for o in by_action["data.disclosed"])
    half = []
    for c in known:
        if c.id not in accounts:
            half.append(f"account {c.id} ({c.email}) has no account.created leaf")
    for r in refs:
        for rid in r["records"] - records:
            half.append(f"record {rid} has no record.created leaf")
        for d in r["disclosures"]:
            leaf = by_hash.get(d["audit_leaf_hash"])
            if not leaf or leaf["action"] != "data.disclosed" or leaf["objects"].get("disclosure") != d["id"] \
                    or leaf["objects"].get("consent") != d["consent_id"]:
                half.append(f"disclosure {d['id']}: its audit leaf {d['audit_leaf_hash']} is {leaf}")
        for e in r["coin_entries"]:
            leaf = by_hash.get(e["audit_leaf_hash"])
            if not leaf or not leaf["action"].startswith("coins.") or leaf["objects"].get("coin_entry") != e["id"]:
                half.append(f"coin entry {e['id']}: its audit leaf {e['audit_leaf_hash']} is {leaf}")
            if e.get("event_leaf_hash") is not None and e["event_leaf_hash"] not in by_hash:
                half.append(f"coin entry {e['id']}: event leaf {e['event_leaf_hash']} is not in the log")
        for cid in r["consents"]:
            if cid not in {h["id"] for h in held}:
                half.append(f"consent {cid} is the citizen's but not among the company's held consents")
    held_ids = {h["id"] for h in held}
    for cid in held_ids - set(granted):
        half.append(f"consent {cid} has no consent.granted leaf")
    for cid in set(granted) - held_ids:
        half.append(f"consent.granted leaf for {cid}, but no such consent")
    for cid, n in granted.items():
        if n != 1:
            half.append(f"consent {cid}: {n} consent.granted leaves")
    for h in held:
        if h["uses"] != disclosed[h["id"]]:
            half.append(f"consent {h['id']}: uses {h['uses']}, data.disclosed leaves {disclosed[h['id']]}")
    for cid in set(disclosed) - held_ids:
        half.append(f"data.disclosed leaves for consent {cid}, which does not exist")
    books = cli("coins", "check")
    coin_leaves = sum(len(v) for k, v in by_action.items() if k.startswith("coins."))
    try:
        ledger_entries = int(books.split("ledger balances: ", 1)[1].split(" entries", 1)[0])
    except (IndexError, ValueError):
        raise Failure(f"coins check: unexpected output {books!r}") from None
    # And the other way: no account or record leaf without its row (a leaf committed, the row not).
    citizen_ids = {c.id for c in known}
    held_records = set().union(*(r["records"] for r in refs))
    for index, leaf in enumerate(leaves):
        objects = leaf["objects"]
        if leaf["action"] == "account.created" and (leaf.get("actor") or {}).get("role") == "citizen" \
                and objects.get("account") not in citizen_ids:
            half.append(f"account.created leaf {index} for {objects.get('account')}, no such citizen")
        if leaf["action"] == "record.created" and objects.get("record") not in held_records:
            half.append(f"record.created leaf {index} for {objects.get('record')}, no such record")
    if ledger_entries != coin_leaves:
        half.append(f"the ledger has {ledger_entries} entries, the log {coin_leaves} coins.* leaves")
    if half:
        raise Failure("half-written state after the restart:\n  " + "\n  ".join(half[:50]))
    passed.append(f"no half-written rows ({len(held)} consents, {len(log)} leaves, {ledger_entries} ledger entries cross-checked)")
    passed.append(f"`coins check`: {books}")
    # Every row of the tables the log speaks for has its leaf, and every leaf its row.
    passed.append("`audit reconcile`: " + cli("audit", "reconcile"))

    # The log: verified end to end, and an extension of the head signed before the kill.
    passed.append("`audit verify --url`: " + cli("audit", "verify", "--url", server.base, "--token", regulator))
    sth = before["sth"]
    jwks = get_ok("/.well-known/jwks.json", None, "JWKS")
    if jwks != jwks_before:
        raise Failure(f"the JWKS changed across the restart:\n  before {jwks_before}\n  after  {jwks}")
    if len(log) < sth["tree_size"]:
        raise Failure(f"the head signed before the kill covers {sth['tree_size']} entries; the log now has {len(log)}")
    now = get_ok("/api/v1/audit/sth", None, "STH")
    if now["tree_size"] < sth["tree_size"]:
        raise Failure(f"tree head shrank across the restart: {sth} -> {now}")
    proof = get_ok(f"/api/v1/audit/proof/consistency?first={sth['tree_size']}&second={now['tree_size']}",
                   regulator, "consistency proof")
    with open(os.path.join(wdir, "consistency.json"), "w") as f:
        json.dump({"size1": sth["tree_size"], "size2": now["tree_size"], "root1": sth["root_hash"],
                   "root2": now["root_hash"], "proof": proof["proof"]}, f)
    passed.append("`audit verify-consistency` (head before the kill -> head now): "
                  + cli("audit", "verify-consistency", os.path.join(wdir, "consistency.json")))
    with open(os.path.join(wdir, "prefix.jsonl"), "w") as f:
        for e in log[:sth["tree_size"]]:
            f.write(json.dumps({"index": e["index"], "leaf": e["leaf"], "leaf_hash": e["leaf_hash"]}) + "\n")
    with open(os.path.join(wdir, "sth-before.json"), "w") as f:
        json.dump(sth, f)
    with open(os.path.join(wdir, "jwks-before.json"), "w") as f:
        json.dump(jwks_before, f)
    passed.append("`audit verify --log --sth --jwks` (today's first entries against the old head and key): "
                  + cli("audit", "verify", "--log", os.path.join(wdir, "prefix.jsonl"),
                        "--sth", os.path.join(wdir, "sth-before.json"), "--jwks", os.path.join(wdir, "jwks-before.json")))

    for path in server.logs:
        with open(path, errors="replace") as f:
            if "panicked" in f.read():
                raise Failure(f"the server panicked ({os.path.basename(path)})")
    passed.append("no panic in the server logs")
    return passed


# ---- the run ----

def main():
    global load_on, finished
    # A terminated run still kills its server (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(f"crash safety: terminated (work dir {work})"))
    threads = []
    try:
        server.start()
        cli("admin", "create-operator", "--email", "ops@crash.example.jp", stdin=PASSWORD + "\n")
        cli("admin", "create-regulator", "--email", "fsa@crash.example.jp", stdin=PASSWORD + "\n")
        B = server.base
        status, body = login("ops@crash.example.jp")
        assert status == 200, body
        operator = body["access_token"]
        status, applied = call(B, "POST", "/api/v1/companies", body={
            "legal_name": "Crash Safety K.K.", "corporate_number": "7000012050002",
            "contact_email": "dpo@crash.example.jp", "privacy_policy_url": "https://crash.example.jp/privacy",
            "security_certification": {"kind": "ISMS", "id": "IS 3", "expires_on": "2099-01-01"}})
        assert status == 201, applied
        company = applied["id"]
        status, body = call(B, "POST", f"/api/v1/operator/companies/{company}/approve", operator, body={})
        assert status == 200, body
        cli("coins", "fund", company, "1000000")
        status, body = call(B, "POST", "/api/v1/oauth/token", form="grant_type=client_credentials",
                            basic=f"{applied['client_id']}:{applied['client_secret']}")
        assert status == 200, body
        company_token = body["access_token"]
        status, offer = call(B, "POST", "/api/v1/offers", company_token, body={
            "title": "Crash safety", "description": "A test offer.", "purpose": "research_statistics",
            "categories": ["residence"], "data_range_days": 30, "access": "periodic",
            "max_fetches_per_day": 10, "retention_days": 30, "consent_days": 30, "reward_coins": 7})
        assert status == 201, offer
        status, body = call(B, "POST", f"/api/v1/operator/offers/{offer['id']}/approve", operator, body={"reason": "ok"})
        assert status == 200, body
        status, body = login("fsa@crash.example.jp")
        assert status == 200, body
        regulator = body["access_token"]
        jwks_before = get_ok("/.well-known/jwks.json", None, "JWKS")
        print(f"crash safety on {BACKEND}: server up, company {company} funded, offer {offer['id']} approved "
              f"(seed {SEED}, work dir {work})", flush=True)

        cycle_ref = [0]
        queued_kills = 0
        threads = [threading.Thread(target=worker, args=(company_token, offer["id"], cycle_ref), daemon=True)
                   for _ in range(THREADS)]
        for t in threads:
            t.start()
        all_passed = []
        for cycle in range(1, CYCLES + 1):
            cycle_ref[0] = cycle
            with gate:
                load_on = True
                gate.notify_all()
            time.sleep(rng.uniform(1.0, 2.0))
            # What the regulator saw just before the crash: the head, acknowledged as a checkpoint.
            before = {"sth": get_ok("/api/v1/audit/sth", None, "STH")}
            status, before["checkpoint"] = call(server.base, "POST", "/api/v1/audit/checkpoint", regulator)
            if status != 200 or before["checkpoint"].get("status") not in ("none", "consistent"):
                raise Failure(f"checkpoint before the kill: HTTP {status} {before['checkpoint']}")
            time.sleep(rng.uniform(0.2, 0.6))
            queued_at_kill = queue_depth()
            with gate:
                load_on = False
                in_chain = active
            server.kill9()
            queued_kills += queued_at_kill > 0
            with gate:
                if not gate.wait_for(lambda: active == 0, timeout=60):
                    raise Failure("load threads still busy 60 s after the kill")
            if errors:
                raise Failure("requests answered with an error during the load:\n  " + "\n  ".join(errors[:30]))
            t0 = time.monotonic()
            server.start()
            restart = time.monotonic() - t0
            unknown = sum(v for (k, how), v in lost.items() if how == "unknown")
            # The kill must land in the middle of the load (and, over all cycles, cut writes: below).
            if in_chain == 0:
                raise Failure(f"cycle {cycle}: the kill found no chain of requests running")
            print(f"cycle {cycle}: killed (SIGKILL) with {in_chain} chains running; head before the kill "
                  f"{before['sth']['tree_size']} entries, {queued_at_kill} leaves queued (not integrated); "
                  f"{sum(ok.values())} requests 2xx so far, {unknown} unknown; "
                  f"ready again after {restart:.1f} s", flush=True)
            passed = check_all(cycle, regulator, company_token, company, offer["id"], before, jwks_before)
            print(f"cycle {cycle}: {len(passed)} checks passed", flush=True)
            for p in passed:
                print(f"  ok  {p}", flush=True)
            all_passed = passed

        with gate:
            finished = True
            gate.notify_all()
        unknown = {k: v for (k, how), v in lost.items() if how == "unknown"}
        refused = sum(v for (k, how), v in lost.items() if how == "refused")
        if queued_kills == 0:
            raise Failure("no kill found audit leaves queued: the restart's integration was never tested")
        if not set(unknown) & {"entrust", "consent", "disclosure", "redemption", "sign-up"}:
            raise Failure(f"no write was cut by any kill (only {sorted(unknown)}): nothing was tested mid-write")
        print(f"\ncrash safety on {BACKEND}: PASSED in {time.monotonic() - started_at:.1f} s, {CYCLES} kill -9/restart cycles")
        print(f"  2xx answers: {sum(ok.values())} ({', '.join(f'{k} {v}' for k, v in sorted(ok.items()))}), all still in effect")
        print(f"  unknown outcomes (in flight at a kill): {sum(unknown.values())} "
              f"({', '.join(f'{k} {v}' for k, v in sorted(unknown.items())) or 'none'}); refused after a kill: {refused}")
        if resolved:
            print("  unknown outcomes resolved after restart: " + "; ".join(f"{k} {v}" for k, v in sorted(resolved.items())))
        print(f"  checks passed after each restart: {len(all_passed)}")
        shutil.rmtree(work, ignore_errors=True)
    except (Failure, AssertionError, Lost) as e:
        if isinstance(e, Lost):
            e = f"the server stopped answering outside the kill ({e.__cause__!r})"
        print(f"\ncrash safety on {BACKEND}: FAILED after {time.monotonic() - started_at:.1f} s (seed {SEED})\n{e}",
              file=sys.stderr)
        print(f"\nserver output (work dir {work}):\n{server.tail()}", file=sys.stderr)
        sys.exit(1)
    finally:
        with gate:
            finished = True
            gate.notify_all()
        server.stop()
        for t in threads:
            t.join(timeout=30)


if __name__ == "__main__":
    main()
