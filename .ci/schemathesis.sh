#!/usr/bin/env bash
# Property-based API testing with schemathesis (PyPI) against a running infobank: every response
# must be no 5xx, have a status code, a content type and a body that the served OpenAPI document
# (/api/openapi.json) declares for that operation.
#
# usage: .ci/schemathesis.sh BINARY [DATABASE_URL]
#   BINARY        the infobank binary (a debug build is fine)
#   DATABASE_URL  optional INFOBANK_DATABASE_URL (a fresh, empty database); SQLite in a fresh
#                 data directory otherwise
# environment (all optional):
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation and phase (default 200)
#   SCHEMATHESIS_SEED          the seed (default 20261125)
#   SCHEMATHESIS_ROLES         which runs, in order (default "public company rotate citizen regulator operator delete":
#                              the company fetches disclosures before the citizen may revoke, the
#                              operator may suspend the company at the end)
#   SCHEMATHESIS_CHECKS        the checks (default not_a_server_error,status_code_conformance,
#                              content_type_conformance,response_schema_conformance)
#   SCHEMATHESIS_SCHEMA        an OpenAPI file to test against instead of the served document
#                              (e.g. a locally amended copy, to look past gaps already known)
#   SCHEMATHESIS_EXTRA         extra arguments for every `schemathesis run`, word-split
#
# The server is seeded by .ci/schemathesis-setup.py (operator, regulator, an approved funded
# company with an approved and a pending offer, a citizen with records, a consent, a disclosure
# and a redemption), then schemathesis runs once per role, each run restricted to the operations
# whose security requirement names that role ("public": the operations without one, sent with no
# token). No operation is left out; the two that would destroy the setup run apart, after the
# runs that need what they destroy: POST /api/v1/companies/me/secret ("rotate": replacing the
# secret revokes the company's token) and DELETE /api/v1/me ("delete", last, with a citizen of
# its own, so the citizen run keeps its account).
# Reports land in target/schemathesis/{sqlite,postgres}/: per run the console log, the command line, JUnit XML and
# NDJSON; findings.txt is the deduplicated list of failures (.ci/schemathesis-report.py), with a
# curl command for each.
set -euo pipefail
if [ -n "${SCHEMATHESIS_SCHEMA:-}" ]; then SCHEMATHESIS_SCHEMA=$(cd "$(dirname "$SCHEMATHESIS_SCHEMA")" && pwd)/$(basename "$SCHEMATHESIS_SCHEMA"); fi
cd "$(dirname "$0")/.."

[ $# -ge 1 ] || { echo "usage: $0 BINARY [DATABASE_URL]" >&2; exit 2; }
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -x "$bin" ] || { echo "$0: $1 is not an executable" >&2; exit 2; }
database_url=${2:-}

version=4.32.5
venv=target/schemathesis-venv
st=$venv/bin/schemathesis
if ! "$st" --version 2>/dev/null | grep -qx "schemathesis, version $version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$version"
fi

max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-200}
seed=${SCHEMATHESIS_SEED:-20261125}
roles=${SCHEMATHESIS_ROLES:-public company rotate citizen regulator operator delete}
# The operations that end the setup's account or token, each with a run of its own.
destructive=("DELETE /api/v1/me" "POST /api/v1/companies/me/secret")
out=$PWD/target/schemathesis/$([ -n "$database_url" ] && echo postgres || echo sqlite)
rm -rf "$out" && mkdir -p "$out"

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  cp "$work/server.log" "$out/server.log" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export INFOBANK_DATA_DIR="$work/data"
if [ -n "$database_url" ]; then export INFOBANK_DATABASE_URL="$database_url"; fi
export INFOBANK_RATE_LIMIT_LOGIN=0 INFOBANK_RATE_LIMIT_TOKEN=0 INFOBANK_RATE_LIMIT_DISCLOSURE=0
export RUST_LOG=${RUST_LOG:-warn}

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$bin" serve --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do
  curl -sf "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "$0: the server exited" >&2; exit 1; }
  sleep 0.2
done
curl -sf "$base/readyz" >/dev/null || { cat "$work/server.log" >&2; echo "$0: the server is not ready" >&2; exit 1; }

python3 .ci/schemathesis-setup.py "$bin" "$base" "$work/setup.json" "$out/schemathesis.toml"
setup() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
for key in sys.argv[2].split("."): d = d[key]
print("\n".join(d) if isinstance(d, list) else d)' "$work/setup.json" "$1"; }

# The 2xx answers the server has counted so far (its /metrics, by route and status), but for the
# schema each run loads and this count itself: a run that got none never got past
# authentication or validation, and tested nothing behind it.
answered_2xx() {
  curl -sf "$base/metrics" | awk '/^infobank_http_requests_total\{/ && /status="2[0-9][0-9]"/ && !/route="\/(metrics|api\/openapi\.json)"/ {s += $NF} END {print s + 0}'
}

failed=()
for role in $roles; do
  case $role in
    public) operations=public; token="" ;;
    delete) operations=""; token=$(setup tokens.doomed) ;;
    rotate) operations=""; token=$(setup tokens.company) ;;
    *) operations=$role; token=$(setup "tokens.$role") ;;
  esac
  if [ -n "${SCHEMATHESIS_SCHEMA:-}" ]; then location=(run "$SCHEMATHESIS_SCHEMA" --url "$base"); else location=(run "$base/api/openapi.json"); fi
  args=(--config-file "$out/schemathesis.toml" "${location[@]}"
    --checks "${SCHEMATHESIS_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance}"
    --seed "$seed" --max-examples "$max_examples" --workers 1 --generation-database none
    --continue-on-failure --request-timeout 30 --no-color
    --report junit,ndjson --report-junit-path "$out/$role.junit.xml" --report-ndjson-path "$out/$role.ndjson")
  if [ -n "$token" ]; then args+=(-H "Authorization: Bearer $token"); fi
  case $role in
    delete) args+=(--include-name "DELETE /api/v1/me") ;;
    rotate) args+=(--include-name "POST /api/v1/companies/me/secret") ;;
    *)
      included=0
      while IFS= read -r name; do
        [ -n "$name" ] || continue
        for d in "${destructive[@]}"; do [ "$name" = "$d" ] && continue 2; done
        args+=(--include-name "$name") && included=$((included + 1))
      done < <(setup "operations.$operations")
      # No filter would mean every operation, the destructive ones among them: refuse instead.
      [ "$included" -gt 0 ] || { echo "$0: the OpenAPI document names no operation for $role" >&2; exit 1; }
      ;;
  esac
  # shellcheck disable=SC2206 # word splitting of the extra arguments is intended
  args+=(${SCHEMATHESIS_EXTRA:-})
  printf '\n==> schemathesis as %s  (%s)\n' "$role" "$(date -u +%H:%M:%S)"
  shown=("${args[@]}")
  if [ -n "$token" ]; then shown=("${args[@]//"$token"/\$TOKEN}"); fi
  printf '%q ' "$st" "${shown[@]}" > "$out/$role.command"
  echo >> "$out/$role.command"
  started=$(date +%s)
  ok_before=$(answered_2xx)
  status=0
  "$st" "${args[@]}" 2>&1 | tee "$out/$role.log" || status=$?
  ok_during=$(( $(answered_2xx) - ok_before ))
  echo "schemathesis as $role: exit $status in $(( $(date +%s) - started ))s, $ok_during answers 2xx" | tee -a "$out/summary.txt"
  [ "$status" -eq 0 ] || failed+=("$role")
  if [ "$ok_during" -eq 0 ]; then
    echo "schemathesis as $role: no request was answered 2xx (a token refused, or nothing but bad input?)" >&2
    failed+=("$role: no 2xx")
  fi
done

python3 .ci/schemathesis-report.py "$out" | tee "$out/findings.txt"
cat "$out/summary.txt"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "schemathesis: failures as ${failed[*]} (logs and JUnit reports in $out)" >&2
  exit 1
fi
echo "schemathesis: no failures"
