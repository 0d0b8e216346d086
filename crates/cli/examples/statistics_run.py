#!/usr/bin/env python3
"""How long a statistics run takes as the consenting citizens grow (docs/performance.md).

    cargo build --release -p infobank
    python3 crates/cli/examples/statistics_run.py [--database-url postgres://…] [--sizes 100,300,1000]

Starts the release server on a fresh data directory (SQLite, or the given PostgreSQL database),
seeds a company with a records offer (residence) and a statistics offer (prefecture x month;
spend_sum, spend_mean; 90 days), and citizens with a residence in one of five prefectures and
five payments each. Then, for each size, consents that many citizens to the statistics offer and
times five runs of `POST /api/v1/offers/{id}/statistics` (the same participants: the overlap rule
allows it; the first pays each new participant the offer's reward and the month's participation,
two ledger entries with their leaves each, the later ones pay nothing more), against the baseline of the same server in the same run: one records disclosure
(`GET /api/v1/consents/{id}/data`, median of 200). Prints medians and the ratios. Standard
library only; the server's CLI does the operator's part.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / ".ci"))
from httpkit import decode, free_port, request  # noqa: E402

PREFECTURES = ["Tokyo", "Osaka", "Kyoto", "Aichi", "Fukuoka"]
PASSWORD = "statistics bench passphrase"


def call(base, method, path, token=None, body=None, basic=None, form=None):
    try:
        with urllib.request.urlopen(request(base, method, path, token, body, form, basic), timeout=120) as r:
            return r.status, decode(r.read())
    except urllib.error.HTTPError as e:
        return e.code, decode(e.read())


def must(answer, status):
    if answer[0] != status:
        sys.exit(f"expected {status}, got {answer}")
    return answer[1]


def parallel(items, work, threads=4):
    items = list(items)
    out = [None] * len(items)
    def worker(offset):
        for i in range(offset, len(items), threads):
            out[i] = work(items[i])
    ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url")
    ap.add_argument("--sizes", default="100,300,1000")
    ap.add_argument("--server", default=str(pathlib.Path(__file__).resolve().parents[3] / "target/release/infobank"))
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    data = tempfile.mkdtemp(prefix="infobank-stats-")
    env = dict(os.environ, INFOBANK_DATA_DIR=data, RUST_LOG="warn", INFOBANK_RATE_LIMIT_LOGIN="0",
               INFOBANK_RATE_LIMIT_TOKEN="0", INFOBANK_RATE_LIMIT_DISCLOSURE="0")
    if args.database_url:
        env["INFOBANK_DATABASE_URL"] = args.database_url
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([args.server, "serve", "--listen", f"127.0.0.1:{port}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                if call(base, "GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        cli = lambda *a: subprocess.run([args.server, *a], env=env, check=True, stdout=subprocess.DEVNULL)
        applied = must(call(base, "POST", "/api/v1/companies", body={
            "legal_name": "Bench Foods K.K.", "corporate_number": "1180301018771",
            "contact_email": "privacy@bench.example.jp", "privacy_policy_url": "https://bench.example.jp/privacy",
            "security_certification": {"kind": "PMARK", "id": "1", "expires_on": "2099-03-31"}}), 201)
        cli("company", "approve", applied["id"])
        cli("coins", "fund", applied["id"], "10000000")
        token = must(call(base, "POST", "/api/v1/oauth/token", basic=f"{applied['client_id']}:{applied['client_secret']}",
                          form="grant_type=client_credentials"), 200)["access_token"]
        common = {"description": "bench", "purpose": "product_development", "access": "periodic",
                  "max_fetches_per_day": 1440, "retention_days": 30, "consent_days": 365, "reward_coins": 1}
        records = must(call(base, "POST", "/api/v1/offers", token, {**common, "title": "records",
                            "categories": ["residence"], "data_range_days": 30}), 201)["id"]
        stats = must(call(base, "POST", "/api/v1/offers", token, {**common, "title": "statistics",
                          "kind": "statistics", "data_range_days": 90,
                          "statistics": {"dimensions": ["prefecture", "month"], "measures": ["spend_sum", "spend_mean"]}}), 201)["id"]
        cli("offer", "approve", records, "--reason", "bench")
        cli("offer", "approve", stats, "--reason", "bench")

        today = time.strftime("%Y-%m-%d", time.gmtime())
        def citizen(i):
            email = f"bench{i}-{time.time_ns()}@example.jp"
            must(call(base, "POST", "/api/v1/citizens", body={"email": email, "password": PASSWORD, "display_name": f"B{i}"}), 201)
            t = must(call(base, "POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD}), 200)["access_token"]
            must(call(base, "POST", "/api/v1/me/records", t, {"category": "residence", "data": {
                "prefecture": PREFECTURES[i % 5], "city": "C", "postal_code": "100-0001"}}), 201)
            for j in range(5):
                must(call(base, "POST", "/api/v1/me/records", t, {"category": "payment_history", "data": {
                    "date": today, "merchant": f"Shop {j}", "amount": 500 + 100 * j, "currency": "JPY",
                    "method": "card", "merchant_category": "grocery"}}), 201)
            return t
        started = time.time()
        citizens = parallel(range(max(sizes)), citizen)
        print(f"seeded {len(citizens)} citizens in {time.time() - started:.0f} s", flush=True)

        # Baseline: one records disclosure, median of 200, same server, same run.
        must(call(base, "POST", "/api/v1/me/consents", citizens[0], {"offer_id": records}), 201)
        held = must(call(base, "GET", "/api/v1/consents", token), 200)
        consent = [c["id"] for c in held if c["offer_id"] == records][0]
        times = []
        for _ in range(200):
            t0 = time.perf_counter()
            must(call(base, "GET", f"/api/v1/consents/{consent}/data", token), 200)
            times.append(time.perf_counter() - t0)
        disclosure = statistics.median(times)
        backend = "postgres" if args.database_url else "sqlite"
        print(f"\n{backend}: one records disclosure, median of 200: {disclosure * 1000:.2f} ms\n")
        print("| backend | participants | cells released | first run (pays) | later runs, median of 4 | per participant (later) | later / one disclosure |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        consented = 0
        for size in sizes:
            parallel(citizens[consented:size], lambda t: must(call(base, "POST", "/api/v1/me/consents", t, {"offer_id": stats}), 201))
            consented = size
            runs = []
            for _ in range(5):
                t0 = time.perf_counter()
                answer = must(call(base, "POST", f"/api/v1/offers/{stats}/statistics", token), 200)
                runs.append(time.perf_counter() - t0)
                assert answer["participants"] == size, answer
            run = statistics.median(runs[1:])
            print(f"| {backend} | {size} | {len(answer['cells'])} | {runs[0] * 1000:.0f} ms | {run * 1000:.0f} ms "
                  f"| {run / size * 1000:.2f} ms | {run / disclosure:.0f} |", flush=True)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
