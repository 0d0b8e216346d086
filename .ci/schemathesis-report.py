#!/usr/bin/env python3
"""Deduplicated summary of the failures in schemathesis NDJSON reports (one per run), as written
by .ci/schemathesis.sh: one line per (run, operation, check, status, content type, problem code),
with how often it was seen and one reproducing request as a curl command.

usage: schemathesis-report.py DIR   (DIR/<role>.ndjson for each run)
"""
import base64
import json
import pathlib
import shlex
import sys


def body_of(message):
    raw = (message or {}).get("body") or (message or {}).get("content")
    if not raw:
        return b""
    if "$base64" in raw:
        return base64.b64decode(raw["$base64"])
    return (raw.get("string") or "").encode()


def curl(request):
    parts = ["curl", "-sS", "-i", "-X", request["method"]]
    for name, values in (request.get("headers") or {}).items():
        if name.lower() in ("user-agent", "accept", "accept-encoding", "connection", "content-length",
                            "x-schemathesis-testcaseid"):
            continue
        for value in values:
            if name.lower() == "authorization" and value == "[Filtered]":
                value = "Bearer $TOKEN"
            parts += ["-H", f"{name}: {value}"]
    data = body_of(request)
    if data:
        try:
            parts += ["--data-binary", data.decode()]
        except UnicodeDecodeError:
            parts += ["--data-binary", repr(data)]
    parts.append(request["uri"])
    return " ".join(shlex.quote(p) if p != "Bearer $TOKEN" else p for p in parts).replace(
        "'Authorization: Bearer $TOKEN'", '"Authorization: Bearer $TOKEN"')


def printable(text):
    """Control characters escaped, so that the summary stays one line per field and greppable."""
    return "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape").decode() for c in text)


def main(directory):
    seen = {}
    for path in sorted(pathlib.Path(directory).glob("*.ndjson")):
        role = path.stem
        for line in path.open():
            event = json.loads(line)
            finished = event.get("ScenarioFinished")
            if not finished or finished["status"] not in ("failure", "error"):
                continue
            recorder = finished["recorder"]
            for case_id, checks in recorder.get("checks", {}).items():
                interaction = recorder.get("interactions", {}).get(case_id)
                for check in checks:
                    if check["status"] != "failure":
                        continue
                    failure = check["failure_info"]["failure"]
                    response = (interaction or {}).get("response") or {}
                    status = response.get("status_code")
                    ctype = ((response.get("headers") or {}).get("content-type") or ["-"])[0]
                    text = body_of(response).decode(errors="replace")
                    try:
                        code = json.loads(text).get("code", "-")
                    except (ValueError, AttributeError):
                        code = "-"
                    key = (role, failure.get("operation") or recorder["label"], failure["code"], failure["title"],
                           status, ctype, code)
                    entry = seen.setdefault(key, {"count": 0, "message": failure.get("message", ""),
                                                  "body": text[:400],
                                                  "curl": curl(interaction["request"]) if interaction else "-"})
                    entry["count"] += 1
    if not seen:
        print("no failures")
        return
    for (role, operation, code, title, status, ctype, problem), entry in sorted(seen.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], str(kv[0][4]))):
        message = " | ".join(entry["message"].splitlines())
        print(f"[{role}] {operation}: {code} {title}: {status} {ctype} code={problem} (x{entry['count']})")
        print(f"    {printable(message[:300])}")
        print(f"    body: {printable(entry['body'])}")
        print(f"    {printable(entry['curl'][:1500])}")


main(sys.argv[1])
