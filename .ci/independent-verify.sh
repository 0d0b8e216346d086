#!/usr/bin/env bash
# Verifies the audit log of a real release server with docs/verify_audit.py: a second,
# independent implementation (Python, standard library + `cryptography`) of the leaf hashing,
# the RFC 6962 root and the documented signed-tree-head encoding. Usage: BIN [DATABASE_URL]
set -euo pipefail
bin=$1
database_url=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)

python3 -c 'import cryptography' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check cryptography

data=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT
export INFOBANK_DATA_DIR="$data"
[ -n "$database_url" ] && export INFOBANK_DATABASE_URL="$database_url"

password="independent verification passphrase"
printf '%s\n' "$password" | "$bin" admin create-regulator --email regulator@verify.example >/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --listen "127.0.0.1:$port" >"$data/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  python3 -c "import urllib.request; urllib.request.urlopen('$base/readyz')" 2>/dev/null && break
  sleep 0.1
done
for i in 1 2 3 4 5; do
  python3 - "$base" "$i" <<'PY'
import json, sys, urllib.request
base, i = sys.argv[1], sys.argv[2]
body = json.dumps({"email": f"citizen{i}@verify.example", "password": "a long enough passphrase", "display_name": f"C{i}"}).encode()
urllib.request.urlopen(urllib.request.Request(base + "/api/v1/citizens", data=body, headers={"Content-Type": "application/json"}))
PY
done
# Heads are signed at most once a second: wait that out so the head covers every event above.
sleep 1.2
out=$(printf '%s\n' "$password" | python3 "$root/docs/verify_audit.py" "$base" --email regulator@verify.example --password-stdin)
echo "$out"
# The regulator's creation and five sign-ups: at least 6 entries were checked (the verifier's
# own sign-in may come after the signed head it verifies, which lags by up to the merge delay).
entries=$(echo "$out" | sed -n 's/^valid: \([0-9]*\) entries.*/\1/p')
if [ -z "$entries" ] || [ "$entries" -lt 6 ]; then
  echo "independent verification covered ${entries:-no} entries, expected at least 6" >&2
  exit 1
fi
