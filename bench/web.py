"""web: the member app's first load on a phone. How many kilobytes of JavaScript and CSS (gzipped, as
the gateway sends them) the catalogue page loads before its first course shows, and how long that takes
in Debian's Chromium on a throttled phone profile (1.6 Mbit/s down, 150 ms latency, 4x CPU slowdown,
an empty cache), against a palace with a term of classes in its catalogue.

Full: 10 loads; quick (--quick): 3 loads. Bars (issue 21, DESIGN.md): first load <= 200 KB of gzipped
JS + CSS, first course visible within 3 s (the median load; the slowest is printed too)."""
import argparse
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bench._palace import admin, palace, percentile, report

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
SH = ZoneInfo("Asia/Shanghai")
BAR_KB, BAR_SECONDS = 200, 3.0
TOOLS = ("node", "chromium")  # the build and the browser (make test installs chromium: scripts/browser)
SIZES = {"full": {"loads": 10, "courses": 40}, "quick": {"loads": 3, "courses": 15}}


def build():
    """The app as `make run` serves it (scripts/web builds only when a source changed)."""
    done = subprocess.run([str(ROOT / "scripts" / "web")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        sys.exit(f"bench web: the web build failed:\n{done.stderr[-3000:]}")


def seed(stack, courses):
    staff = admin(stack)
    site = staff.post(f"{stack.url}/v1/sites", json={"name": "工人文化宫", "kind": "palace", "district": "相山区",
                                                     "address": "人民路1号"}, timeout=30).json()
    monday = datetime.now(SH).replace(hour=19, minute=0, second=0, microsecond=0) + timedelta(days=7)
    for n in range(courses):
        start = monday + timedelta(days=n % 5, weeks=n // 5)
        answer = staff.post(f"{stack.url}/v1/courses", timeout=30, json={
            "title": f"夜校课程 {n + 1:02d}", "capacity": 30, "category": "arts", "teacher": "周敏",
            "site_id": site["id"], "schedule": {"dates": [{"starts_at": start.isoformat(),
                                                           "ends_at": (start + timedelta(minutes=90)).isoformat()}]}})
        answer.raise_for_status()


def gzipped_kb(urls):
    """The gzipped size of each file, as the gateway sends it (the build's .gz copy beside it)."""
    total = 0
    for url in urls:
        path = WEB / "dist" / urlsplit(url).path.lstrip("/")
        packed = path.with_name(path.name + ".gz")
        total += (packed if packed.is_file() else path).stat().st_size
    return round(total / 1024, 1)


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m bench web")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    size = SIZES["quick" if args.quick else "full"]
    build()
    stack = palace(extra_env={"PALACE_WEB_ROOT": str(WEB / "dist")})
    try:
        seed(stack, size["courses"])
        done = subprocess.run(["node", str(WEB / "scripts" / "first-load.mjs"), f"{stack.url}/courses",
                               str(size["loads"])], cwd=WEB, capture_output=True, text=True, timeout=300)
    finally:
        stack.destroy()
    if done.returncode != 0:
        sys.exit(f"bench web: the browser run failed:\n{done.stderr[-3000:]}")
    loads = json.loads(done.stdout.strip().splitlines()[-1])
    first = loads[0]["assets"]
    scripts = [a["url"] for a in first if a["type"] == "Script"]
    styles = [a["url"] for a in first if a["type"] == "Stylesheet"]
    seconds = [load["visible_ms"] / 1000 for load in loads]
    figures = {"size": "quick" if args.quick else "full", **size,
               "first_load_gzip_kb": gzipped_kb(scripts + styles), "js_gzip_kb": gzipped_kb(scripts),
               "css_gzip_kb": gzipped_kb(styles), "files": len(scripts) + len(styles),
               "transferred_kb": round(sum(a.get("transferred", 0) for a in first) / 1024, 1),
               "first_course_visible_s_median": round(percentile(seconds, 50), 2),
               "first_course_visible_s_max": round(max(seconds), 2),
               "profile": "1.6 Mbit/s down, 150 ms latency, 4x CPU slowdown, no cache, 390x844"}
    bars = {f"first_load<={BAR_KB}KB": figures["first_load_gzip_kb"] <= BAR_KB,
            f"first_course<={BAR_SECONDS}s": figures["first_course_visible_s_median"] <= BAR_SECONDS}
    return report("web", figures, bars)
