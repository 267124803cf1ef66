"""The interactive API docs work in a real headless browser with no internet: Swagger UI 5's files
come from npm's swagger-ui-dist through the web build, and the page lists the operations of the
OpenAPI 3.1 document at /openapi.json."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import Client

WEB = Path(__file__).parents[2] / "web"


def chromium(*args, timeout=90):
    browser = shutil.which("chromium")
    assert browser, "chromium is missing: `make test` installs it with scripts/browser"
    return subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           "--no-first-run", "--proxy-server=127.0.0.1:9",  # anything off this machine fails
                           "--proxy-bypass-list=127.0.0.1", "--virtual-time-budget=20000", *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def docs(palace):
    return f"{palace.url}/docs"


def test_the_docs_page_lists_every_operation(palace, docs):
    # scrolled through in a real browser: Swagger UI renders a long list only as it comes into view
    done = subprocess.run(["node", str(WEB / "scripts" / "docs-operations.mjs"), docs], cwd=WEB,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    shown = set(seen["summaries"])
    document = Client(palace.url).get("/openapi.json").json()
    summaries = [op["summary"] for item in document["paths"].values() for op in item.values()
                 if isinstance(op, dict) and "summary" in op]
    assert summaries, "the API document has operations"
    missing = sorted(set(summaries) - shown)
    assert not missing, f"not shown ({len(missing)} of {len(summaries)}): {missing[:5]}"
    assert "/v1/courses/{course_id}/enrolments" in seen["paths"]


def test_the_docs_page_renders_a_screenshot(palace, docs, tmp_path):
    shot = tmp_path / "docs.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,1600", docs)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, "a rendered page, not a blank one"
    assert Client(palace.url).get("/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_the_docs_are_swagger_ui_5_reading_openapi_3_1(palace):
    document = Client(palace.url).get("/openapi.json").json()
    assert document["openapi"].startswith("3.1.")
    pinned = json.loads((Path(__file__).parents[2] / "web" / "package.json").read_text())
    version = pinned["dependencies"]["swagger-ui-dist"]
    assert version.startswith("5."), "Swagger UI 5: 4.x cannot show OpenAPI 3.1"
    assert f'"{version}"' in Client(palace.url).get("/docs/assets/swagger-ui-bundle.js").text, "the pinned one"
