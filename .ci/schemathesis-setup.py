#!/usr/bin/env python3
"""Seeds a running infobank for .ci/schemathesis.sh, so that fuzzed requests reach real code:
an operator and a regulator (through the CLI), an approved and funded company with an approved
offer (and a second offer left pending review), a citizen with records, a live consent, a
disclosure and a redemption, plus a second citizen whose only purpose is to be deleted by
DELETE /api/v1/me in a run of its own.

usage: schemathesis-setup.py BINARY BASE_URL OUT.json OUT.toml
The CLI runs with the caller's environment (the same INFOBANK_DATA_DIR / INFOBANK_DATABASE_URL /
INFOBANK_KEY_DIR as the server). OUT.json gets the tokens, the ids, and for every role the
operations of the served OpenAPI document that the role may call ("METHOD path", as schemathesis
names them); "public" holds the operations without a security requirement. OUT.toml is a
schemathesis configuration whose dictionaries make half of the generated ids, offer ids,
category names and consent actions / operator decisions real ones, so that requests get past
"not found" into the code behind it.
Standard library only.
"""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from httpkit import decode, request  # noqa: E402  (a sibling file, not a package)

BIN, BASE, OUT, TOML = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3], sys.argv[4]
PASSWORD = "schemathesis passphrase 42"


def call(method, path, token=None, body=None, form=None, basic=None, expect=None):
    req = request(BASE, method, path, token, body, form, basic)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    parsed = decode(raw)
    if expect is not None and status != expect:
        sys.exit(f"setup: {method} {path} answered {status}, expected {expect}: {parsed}")
    return parsed


def cli(*args, stdin=None):
    out = subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"setup: infobank {' '.join(args)} failed: {out.stderr}")
    return out.stdout


def login(email):
    return call("POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD}, expect=200)["access_token"]


def citizen(email):
    call("POST", "/api/v1/citizens", body={"email": email, "password": PASSWORD, "display_name": "Fuzz"}, expect=201)
    return login(email)


cli("admin", "create-operator", "--email", "ops@fuzz.example.jp", stdin=PASSWORD + "\n")
cli("admin", "create-regulator", "--email", "fsa@fuzz.example.jp", stdin=PASSWORD + "\n")
operator = login("ops@fuzz.example.jp")
regulator = login("fsa@fuzz.example.jp")

applied = call("POST", "/api/v1/companies", body={
    "legal_name": "Fuzz K.K.", "corporate_number": "7000012050002",
    "contact_email": "dpo@fuzz.example.jp", "privacy_policy_url": "https://fuzz.example.jp/privacy",
    "security_certification": {"kind": "ISMS", "id": "IS 42", "expires_on": "2099-01-01"}}, expect=201)
company_id = applied["id"]
call("POST", f"/api/v1/operator/companies/{company_id}/approve", operator, body={}, expect=200)
cli("coins", "fund", company_id, "1000000")
company = call("POST", "/api/v1/oauth/token", form="grant_type=client_credentials",
               basic=f"{applied['client_id']}:{applied['client_secret']}", expect=200)["access_token"]
# A second company left as applied, so that the operator's lists hold both states.
call("POST", "/api/v1/companies", body={
    "legal_name": "Pending K.K.", "corporate_number": "1180301018771",
    "contact_email": "dpo@pending.example.jp", "privacy_policy_url": "https://pending.example.jp/privacy",
    "security_certification": {"kind": "PMARK", "id": "P 7", "expires_on": "2099-01-01"}})

offer_body = {
    "title": "Fuzz offer", "description": "Offer for the schemathesis run.", "purpose": "research_statistics",
    "categories": ["residence", "hobbies"], "data_range_days": 30, "access": "periodic",
    "max_fetches_per_day": 1000, "retention_days": 30, "consent_days": 365, "reward_coins": 50}
offer = call("POST", "/api/v1/offers", company, body=offer_body, expect=201)
call("POST", f"/api/v1/operator/offers/{offer['id']}/approve", operator, body={"reason": "ok"}, expect=200)
pending = call("POST", "/api/v1/offers", company, body=dict(offer_body, title="Pending offer"), expect=201)

citizen_token = citizen("citizen@fuzz.example.jp")
record = call("POST", "/api/v1/me/records", citizen_token, body={
    "category": "residence", "data": {"prefecture": "Tokyo", "city": "Chiyoda", "postal_code": "100-0001"}}, expect=201)
hobbies = call("POST", "/api/v1/me/records", citizen_token, body={"category": "hobbies", "data": {"items": ["go"]}}, expect=201)
granted = call("POST", "/api/v1/me/consents", citizen_token, body={"offer_id": offer["id"]}, expect=201)
consent_id = granted["consent"]["id"]
disclosure = call("GET", f"/api/v1/consents/{consent_id}/data", company, expect=200)
call("POST", "/api/v1/me/coins/redeem", citizen_token, body={"amount": 5, "idempotency_key": "setup-1"}, expect=201)

# A second consent, to a second approved offer, so that one survives if the citizen run revokes.
offer2 = call("POST", "/api/v1/offers", company, body=dict(offer_body, title="Second offer", access="one_time", max_fetches_per_day=1), expect=201)
call("POST", f"/api/v1/operator/offers/{offer2['id']}/approve", operator, body={"reason": "ok"}, expect=200)
consent2 = call("POST", "/api/v1/me/consents", citizen_token, body={"offer_id": offer2["id"]}, expect=201)["consent"]["id"]

doomed = citizen("doomed@fuzz.example.jp")
call("POST", "/api/v1/me/records", doomed, body={"category": "hobbies", "data": {"items": ["cycling"]}}, expect=201)

time.sleep(1.1)  # tree heads are signed at most once a second: let one cover the setup
call("GET", "/api/v1/audit/sth", expect=200)

spec = call("GET", "/api/openapi.json", expect=200)
roles = {"public": [], "citizen": [], "company": [], "operator": [], "regulator": []}
for path, item in spec["paths"].items():
    for method, op in item.items():
        if method not in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
            continue
        name = f"{method.upper()} {path}"
        security = op.get("security", spec.get("security"))
        if not security:
            roles["public"].append(name)
        for requirement in security or []:
            for role in requirement:
                roles.setdefault(role, []).append(name)

ids = [record["id"], hobbies["id"], consent_id, consent2, offer["id"], offer2["id"], pending["id"], company_id]
categories = [c["name"] for c in call("GET", "/api/v1/categories", expect=200)["categories"]]


def toml_list(values):
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


with open(TOML, "w") as f:
    f.write(f"""# written by .ci/schemathesis-setup.py
# No state carried between runs (by default .schemathesis/ in the working directory): every run
# starts from the same seed and nothing else.
[cache]
enabled = false

[dictionaries.ids]
values = {toml_list(ids)}
[dictionaries.offers]
values = {toml_list([offer["id"], offer2["id"], pending["id"]])}
[dictionaries.categories]
values = {toml_list(categories)}
[dictionaries.actions]
values = ["pause", "resume", "revoke"]
[dictionaries.decisions]
values = ["approve", "reject", "suspend", "revoke"]

[parameters]
"path.id" = {{ dictionary = "ids", probability = 0.5 }}
"path.action" = {{ dictionary = "actions", probability = 0.7 }}
"path.decision" = {{ dictionary = "decisions", probability = 0.7 }}
"query.category" = {{ dictionary = "categories", probability = 0.5 }}
"body.category" = {{ dictionary = "categories", probability = 0.5 }}
"body.offer_id" = {{ dictionary = "offers", probability = 0.5 }}
""")

json.dump({
    "tokens": {"citizen": citizen_token, "company": company, "operator": operator,
               "regulator": regulator, "doomed": doomed},
    "ids": {"company": company_id, "offer": offer["id"], "pending_offer": pending["id"],
            "record": record["id"], "consent": consent_id, "consent2": consent2, "offer2": offer2["id"], "disclosure": disclosure["disclosure_id"]},
    "operations": roles,
}, open(OUT, "w"), indent=2)
print(f"setup: company {company_id}, offer {offer['id']}, consent {consent_id}; operations per role: "
      + ", ".join(f"{k} {len(v)}" for k, v in roles.items()))
