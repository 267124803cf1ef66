"""A crowd of members pressing "enrol" at once, as phone apps do: each request carries an
Idempotency-Key, and a 503 or a dropped connection is retried with the same key."""
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

RETRIED = (502, 503, 504)


def enrol_crowd(base, course_id, people, clients, tries=5, progress=None):
    """Every (member id, token) in `people` enrols once; returns one answer per member:
    {status, seconds, tries, body}. `progress(done)` is called after each member."""
    local = threading.local()
    answers = [None] * len(people)
    done = [0]
    lock = threading.Lock()

    def enrol(index):
        if not hasattr(local, "http"):
            local.http = requests.Session()
        _member_id, token = people[index]
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
        started, attempt, status, body = time.perf_counter(), 0, None, None
        while attempt < tries:
            attempt += 1
            try:
                answer = local.http.post(f"{base}/v1/courses/{course_id}/enrolments", headers=headers, timeout=30)
            except requests.ConnectionError:
                local.http = requests.Session()
                time.sleep(0.5)
                continue
            status, body = answer.status_code, answer.json() if answer.content else None
            if status not in RETRIED:
                break
            time.sleep(min(float(answer.headers.get("Retry-After", "1")), 2.0))
        answers[index] = {"status": status, "seconds": time.perf_counter() - started, "tries": attempt,
                          "body": body}
        if progress:
            with lock:
                done[0] += 1
                progress(done[0])

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(enrol, range(len(people))))
    return answers
