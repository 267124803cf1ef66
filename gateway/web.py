"""The built web apps (web/dist, made by scripts/web): the member app at /, and any app in a folder of
its own (the staff console at /console/). A path that names no file but looks like a page of an app
(/courses/42) gets that app's index.html, so the apps can use history-mode routes; the API's own paths
are never served from here, whatever the build holds.

Vite names the files under assets/ by a hash of their contents, so they may be cached for a year; an
index.html must be asked again each time (it names the current hashes). The build also writes a gzip
copy beside each text file, sent to a browser that accepts gzip."""
import hashlib
import mimetypes
import re
from pathlib import Path

import falcon

from gateway.problems import Problem
from services.common import config

# the paths of the API, of operations and of a bench stack's extra routes: a sink never answers under them
RESERVED = ("v1", "docs", "problems", "openapi.json", "healthz", "readyz", "metrics", "bench")
SINK = re.compile(r"/(?!(?:%s)(?:/|$))" % "|".join(re.escape(p) for p in RESERVED))
# which app a page belongs to: the longest folder first
APPS = (("console", "console/index.html"), ("", "index.html"))
IMMUTABLE = "public, max-age=31536000, immutable"
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".html": "text/html",
         ".svg": "image/svg+xml", ".json": "application/json", ".webmanifest": "application/manifest+json",
         ".woff2": "font/woff2", ".png": "image/png", ".ico": "image/x-icon", ".txt": "text/plain"}
# a Content-Security-Policy for the pages: scripts and connections to this origin only (Vant sets
# inline styles, and the certificate is shown in a sandboxed frame of its own HTML)
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:;"
               " connect-src 'self'; frame-src 'self' blob: data:; object-src 'none'; base-uri 'self';"
               " frame-ancestors 'self'; form-action 'self'")


def web_root():
    """Where the built apps are: PALACE_WEB_ROOT, or web/dist beside the gateway package."""
    return Path(config.env("PALACE_WEB_ROOT") or Path(__file__).resolve().parent.parent / "web" / "dist")


class WebApps:
    """A falcon sink for every path the routes do not answer (falcon tries sinks after routes)."""

    def __init__(self, root):
        self.root = Path(root).resolve()

    def __call__(self, req, resp, **_groups):
        if req.method not in ("GET", "HEAD"):
            raise falcon.HTTPMethodNotAllowed(["GET", "HEAD"])
        relative = req.path.lstrip("/")
        if any(part in (".", "..") for part in relative.split("/")):
            raise Problem(404, "not-found", "no such page")
        found = self._file(relative)
        if found is not None:
            cache = IMMUTABLE if relative.startswith("assets/") else "public, max-age=3600"
            self._send(req, resp, found, "no-cache" if found.suffix == ".html" else cache)
            return
        if "." in relative.rsplit("/", 1)[-1]:  # a file that is not there (an old hash, a typo)
            raise Problem(404, "not-found", f"no file /{relative}")
        page = self._page(relative)
        if page is None:
            raise Problem(404, "web-app-not-built", "the web apps are not built here: scripts/web builds them"
                          " (make run and make test do it themselves)")
        self._send(req, resp, page, "no-cache")

    def _file(self, relative):
        if not relative or relative.endswith(".gz"):
            return None
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path

    def _page(self, relative):
        for folder, page in APPS:
            if relative == folder or relative.startswith(f"{folder}/") or not folder:
                path = self.root / page
                return path if path.is_file() else None
        return None

    def _send(self, req, resp, path, cache):
        resp.cache_control = [cache]
        data, packed = path.read_bytes(), path.with_name(path.name + ".gz")
        if path.suffix == ".html":
            tag = hashlib.sha256(data).hexdigest()[:32]
            resp.etag = tag
            if any(seen == tag for seen in req.if_none_match or ()):
                resp.status = falcon.HTTP_304  # the page the browser holds is the current one
                return
            resp.set_header("Content-Security-Policy", PAGE_POLICY)
            resp.set_header("Referrer-Policy", "same-origin")
        resp.content_type = _content_type(path)
        resp.set_header("X-Content-Type-Options", "nosniff")
        if packed.is_file():
            resp.vary = ["Accept-Encoding"]
            if "gzip" in (req.get_header("Accept-Encoding") or ""):
                data = packed.read_bytes()
                resp.set_header("Content-Encoding", "gzip")
        resp.data = data


def _content_type(path):
    kind = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") or kind.endswith(("json", "svg+xml")) else kind
