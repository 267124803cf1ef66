"""A container's health check: `python -m ops.health URL` exits 0 when URL answers 200 in time.

Services check their own metrics endpoint (it answers only while the nameko container runs);
the gateway checks /healthz. Plain urllib: the check must not depend on the app importing."""
import sys
import urllib.request


def main(argv):
    url = argv[1] if len(argv) > 1 else "http://127.0.0.1:9100/metrics"
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            return 0 if answer.status == 200 else 1
    except OSError as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
