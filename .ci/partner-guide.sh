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
# curl prints no newline after a body: the disclosure is the last JSON document of the output.
if ! printf '%s' "$out" | python3 -c '
import json, sys
text = sys.stdin.read()
d, _ = json.JSONDecoder().raw_decode(text[text.rindex("{\"disclosure_id\""):])
assert d["data"]["residence"][0]["data"]["city"] == "Chiyoda", d
assert d["onward_transfer"] == "prohibited", d
'; then
  echo "partner guide: the last command did not return the disclosure:" >&2
  printf '%s\n' "$out" | tail -c 2000 >&2
  exit 1
fi
echo "partner guide: every command worked as written"

printf 'regulator passphrase 42\n' | "$bin" admin create-regulator --email fsa@example.go.jp > /dev/null
regulator=$(curl -s -X POST "http://127.0.0.1:$port/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d '{"email":"fsa@example.go.jp","password":"regulator passphrase 42"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
sleep 1.2 # tree heads are signed at most once a second
"$bin" audit verify --url "http://127.0.0.1:$port" --token "$regulator"
"$bin" coins check
