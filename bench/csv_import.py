"""Mutual-aid enrolment import: a unit uploads 66,073 rows (one city's member-enrolments in a
year) through the gateway; the bar is the whole import done in under 30 s, with every bad row
reported by its line number and nothing of it committed.

`python -m bench csv_import [--quick]` (quick: 5,000 rows). Runs its own isolated palace
(databases with a unique prefix, own RabbitMQ vhost) like the tests do."""
import argparse
import json
import random
import sys
import tempfile
import time
import uuid

import requests

from bench._palace import SIZING
from services.welfare.domain import national_id_check_digit
from tests.harness import ADMIN_PASSWORD, ADMIN_PHONE, Stack

FULL_ROWS, QUICK_ROWS, BAD_EVERY, BAR_SECONDS = 66_073, 5_000, 900, 30.0


def national_id(n):
    """A valid, distinct resident ID number for person n."""
    born = 19600101 + (n // 999) % 28 * 10000 + (n // 999 // 28) % 12 * 100 + (n // 999 // 28 // 12) % 28
    first17 = f"3401{n // (999 * 28 * 12 * 28) % 100:02d}{born:08d}{n % 999 + 1:03d}"
    return first17 + national_id_check_digit(first17)


def make_csv(rows, rng):
    """(text, bad line numbers): every BAD_EVERY-th row is broken in one of three ways."""
    lines, bad = ["name,national_id,phone,member_id"], []
    for n in range(rows):
        line_no = n + 2
        ident, phone = national_id(n), f"139{n:08d}"
        if n % BAD_EVERY == BAD_EVERY - 1:
            bad.append(line_no)
            ident = rng.choice([ident[:-1] + ("0" if ident[-1] != "0" else "1"), ident[:10], ""])
        lines.append(f"Worker {n},{ident},{phone},")
    return "\n".join(lines) + "\n", bad


def sign_in(base, phone, password):
    answer = requests.post(f"{base}/v1/auth/token", json={"phone": phone, "password": password}, timeout=30)
    answer.raise_for_status()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return session


def run(rows):
    stack = Stack(tempfile.mkdtemp(prefix="bench-csv-"), sizing=SIZING)
    stack.create()
    try:
        for name in ("welfare", "gateway"):
            stack.start(name)
        base = stack.url
        admin = sign_in(base, ADMIN_PHONE, ADMIN_PASSWORD)
        unit = admin.post(f"{base}/v1/units", json={"name": "Huaibei Mining Group"}, timeout=30).json()
        admin.post(f"{base}/v1/accounts", json={"phone": "13700000001", "name": "Unit admin", "password": "unit-pass-1",
                                                "roles": ["unit_admin"], "unit_id": unit["id"]},
                   timeout=30).raise_for_status()
        admin.post(f"{base}/v1/accounts", json={"phone": "13700000002", "name": "Officer", "password": "officer-pass",
                                                "roles": ["welfare_officer"]}, timeout=30).raise_for_status()
        officer = sign_in(base, "13700000002", "officer-pass")
        unit_admin = sign_in(base, "13700000001", "unit-pass-1")
        plan = officer.post(f"{base}/v1/mutual-aid/plans", timeout=30, json={
            "year": 2026, "name": "Mutual-aid plan 2026", "contribution": "60.00", "rules": {
                "hospital_daily": "50.00", "hospital_deductible_days": 3, "hospital_max_days": 90,
                "waiting_days": 90, "critical_illness": "10000.00", "yearly_cap": "15000.00",
                "accident": {"minor": "500.00", "moderate": "2000.00", "severe": "5000.00",
                             "disability": "10000.00"}}})
        plan.raise_for_status()
        text, bad = make_csv(rows, random.Random(7))

        started = time.monotonic()
        upload = unit_admin.post(f"{base}/v1/mutual-aid/plans/{plan.json()['id']}/enrolments",
                                 data=text.encode(), headers={"Content-Type": "text/csv",
                                                              "Idempotency-Key": str(uuid.uuid4())}, timeout=60)
        upload.raise_for_status()
        accepted = time.monotonic() - started
        progress = []
        while True:
            job = unit_admin.get(f"{base}/v1/mutual-aid/imports/{upload.json()['id']}", timeout=30).json()
            progress.append(job["processed_rows"])
            if job["status"] in ("done", "failed") or time.monotonic() - started > 10 * BAR_SECONDS:
                break
            time.sleep(0.2)
        seconds = time.monotonic() - started
        with stack.db("welfare") as conn:
            committed = conn.execute("SELECT count(*) AS n FROM plan_enrolments").fetchone()["n"]
        reported = [e["line"] for e in job["errors"]]
        correct = (job["status"] == "done" and reported == bad and job["enrolled_rows"] == rows - len(bad)
                   and committed == rows - len(bad))
        figures = {"scenario": "csv_import", "rows": rows, "enrolled": job["enrolled_rows"],
                   "bad_rows": job["bad_rows"], "bad_lines_reported_exactly": reported == bad,
                   "committed": committed, "seconds": round(seconds, 2), "upload_accepted_s": round(accepted, 2),
                   "rows_per_s": round(rows / seconds), "progress_polls": len(progress), "bar_s": BAR_SECONDS,
                   "status": job["status"], "ok": correct and seconds < BAR_SECONDS}
        return figures
    finally:
        stack.destroy()


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m bench csv_import")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS} rows instead of {FULL_ROWS}")
    args = parser.parse_args(argv)
    figures = run(QUICK_ROWS if args.quick else FULL_ROWS)
    print(json.dumps(figures))
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
