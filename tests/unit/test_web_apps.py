"""The gateway's serving of the built web apps (gateway/web.py), on a build laid out in a temporary
folder: pages for app routes, hashed assets cached for a year and sent gzipped, and never a page where
the API or operations answer."""
import gzip

import falcon
import falcon.testing
import pytest

from gateway import web

ASSET = "assets/member-Ab12Cd34.js"


class Api:
    def on_get(self, req, resp):
        resp.media = {"api": True}


@pytest.fixture
def client(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>member</title>")
    (tmp_path / "console").mkdir()
    (tmp_path / "console" / "index.html").write_text("<!doctype html><title>console</title>")
    (tmp_path / ASSET).write_text("console.log('palace');" * 50)
    (tmp_path / f"{ASSET}.gz").write_bytes(gzip.compress((tmp_path / ASSET).read_bytes()))
    (tmp_path / "favicon.svg").write_text("<svg/>")
    app = falcon.App()
    app.req_options.strip_url_path_trailing_slash = True
    app.add_route("/v1/courses", Api())
    app.add_route("/healthz", Api())
    app.add_sink(web.WebApps(tmp_path), web.SINK)
    return falcon.testing.TestClient(app)


@pytest.mark.parametrize("path", ["/", "/courses/42", "/me/preferences", "/help/cases/abc"])
def test_an_app_route_gets_the_member_page_asked_again_each_time(client, path):
    page = client.simulate_get(path)
    assert page.status_code == 200 and "member" in page.text
    assert page.headers["Cache-Control"] == "no-cache"
    assert page.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    again = client.simulate_get(path, headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304 and not again.content


def test_an_app_in_its_own_folder_gets_its_own_page(client):
    for path in ("/console", "/console/", "/console/courses/42"):
        assert "console" in client.simulate_get(path).text, path


def test_hashed_assets_are_cached_for_a_year_and_sent_gzipped_to_who_takes_gzip(client):
    plain = client.simulate_get(f"/{ASSET}")
    assert plain.status_code == 200 and plain.text.startswith("console.log")
    assert plain.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert plain.headers["Content-Type"].startswith("text/javascript")
    assert "Content-Encoding" not in plain.headers and plain.headers["Vary"] == "Accept-Encoding"
    packed = client.simulate_get(f"/{ASSET}", headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == plain.content
    assert client.simulate_get("/favicon.svg").headers["Cache-Control"] == "public, max-age=3600"


def test_the_api_and_operations_are_never_shadowed(client):
    assert client.simulate_get("/v1/courses").json == {"api": True}
    assert client.simulate_get("/healthz").json == {"api": True}
    for path in ("/v1", "/v1/nothing-here", "/docs", "/docs/assets/x.js", "/openapi.json", "/readyz", "/metrics"):
        assert client.simulate_get(path).status_code == 404, path


def test_missing_files_traversal_and_writes_are_refused(client):
    assert client.simulate_get("/assets/member-OldHash.js").status_code == 404
    assert client.simulate_get(f"/{ASSET}.gz").status_code == 404
    assert client.simulate_get("/../../etc/passwd").status_code == 404
    assert client.simulate_get("/assets/..%2f..%2fetc%2fpasswd").status_code == 404
    assert client.simulate_post("/courses").status_code == 405


def test_without_a_build_a_page_says_how_to_make_one(tmp_path):
    app = falcon.App()
    app.add_sink(web.WebApps(tmp_path / "nothing"), web.SINK)
    answer = falcon.testing.TestClient(app).simulate_get("/courses")
    assert answer.status_code == 404 and "scripts/web" in answer.text
