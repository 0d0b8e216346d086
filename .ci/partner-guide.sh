#!/usr/bin/env bash
# docs/partner-guide.md must work as written: run every ```sh block of it, in order, against a
# fresh server (the operator's commands run with the same data directory), then check that the
# last command returned the disclosure. After that walk, a regulator verifies the whole audit
# log over HTTP (`infobank audit verify --url`) and the ledger must balance (`coins check`).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${INFOBANK_BIN:-$PWD/target/release/infobank}"
work="$(mktemp -d)"
trap 'kill "${server_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

mkdir -p "$work/bin" && ln -s "$bin" "$work/bin/infobank"
export INFOBANK_DATA_DIR="$work/data"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --listen "127.0.0.1:$port" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && break
  sleep 0.2
done

# The guide's blocks, with the guide's base URL pointed at this server.
python3 - docs/partner-guide.md > "$work/guide.sh" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
print("\n".join(re.findall(r"```sh\n(.*?)```", text, re.S)))
PY
cd "$work"
out=$(PATH="$work/bin:$PATH" BASE_OVERRIDE="http://127.0.0.1:$port" \
  bash -euo pipefail -c "$(sed "s#^BASE=http://127.0.0.1:8080#BASE=\$BASE_OVERRIDE#" guide.sh)")
# curl prints no newline after a body: pick the JSON documents out of the output. The records
# disclosure of section 6, the predicate answer of section 7 (whose attestation the guide's
# PyJWT step verified), and the statistics run of section 8 must all be there.
if ! printf '%s' "$out" | python3 -c '
import json, sys
text = sys.stdin.read()
decoder = json.JSONDecoder()
docs, i = [], 0
while True:
    i = text.find("{", i)
    if i < 0:
        break
    try:
        doc, end = decoder.raw_decode(text[i:])
        docs.append(doc)
        i += end
    except ValueError:
        i += 1
records = [d for d in docs if isinstance(d, dict) and "data" in d and "disclosure_id" in d]
assert records and records[0]["data"]["residence"][0]["data"]["city"] == "Chiyoda", records
assert records[0]["onward_transfer"] == "prohibited", records
answers = [d for d in docs if isinstance(d, dict) and "attestation" in d]
values = {p["name"]: p["value"] for p in answers[0]["predicates"]}
assert values == {"age_at_least": None, "resides_in": True}, values
assert "attestation verified:" in text, "the PyJWT step did not print its line"
runs = [d for d in docs if isinstance(d, dict) and "run_id" in d]
assert runs[0]["participants"] == 1 and runs[0]["cells"] == [] and runs[0]["k"] == 10, runs
'; then
  echo "partner guide: the commands did not return the disclosure, the answer and the run:" >&2
  printf '%s\n' "$out" | tail -c 3000 >&2
  exit 1
fi
echo "partner guide: every command worked as written"

# The attestation, altered, must not verify: flip an answer in the payload and keep the
# signature (PyJWT again, from the venv the guide created).
"$work/pyjwt-env/bin/python" - "$work/answer.json" "$work/jwks.json" <<'PY'
import base64, json, sys, jwt
answer = json.load(open(sys.argv[1]))
header, payload, signature = answer["attestation"].split(".")
claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
claims["predicates"][0]["value"] = True
forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
kid = jwt.get_unverified_header(answer["attestation"])["kid"]
key = next(k for k in jwt.PyJWKSet.from_dict(json.load(open(sys.argv[2]))).keys if k.key_id == kid)
try:
    jwt.decode(f"{header}.{forged_payload}.{signature}", key=key, algorithms=["EdDSA"], options={"verify_aud": False})
except jwt.InvalidSignatureError:
    print("partner guide: an altered attestation is refused by PyJWT")
else:
    sys.exit("an altered attestation verified")
PY

printf 'regulator passphrase 42\n' | "$bin" admin create-regulator --email fsa@example.go.jp > /dev/null
regulator=$(curl -s -X POST "http://127.0.0.1:$port/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d '{"email":"fsa@example.go.jp","password":"regulator passphrase 42"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
sleep 1.2 # tree heads are signed at most once a second
"$bin" audit verify --url "http://127.0.0.1:$port" --token "$regulator"
"$bin" coins check
