"""The web apps' sources, checked without a browser: every text key the screens use is in both
catalogues (zh-CN and en), the catalogues hold the same keys, and the API document the typed client is
generated from is the API's own (the browser tests check the same at run time: a missing key logs an error)."""
import json
import re
from pathlib import Path

import pytest

from gateway.app import route_table
from gateway.openapi import build

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
APPS = [folder for folder in WEB.iterdir() if (folder / "locales").is_dir()]
# t("a.b"), t('a.b'), te(...), and a key built in a template literal: t(`a.${x}`) names the group "a"
LITERAL = re.compile(r"""\bt[e]?\(\s*(["'])([A-Za-z0-9_.\-]+)\1""")
TEMPLATE = re.compile(r"""\bt[e]?\(\s*`([A-Za-z0-9_.\-]*)\$\{""")


def keys(tree, prefix=""):
    found = {}
    for name, value in tree.items():
        key = f"{prefix}.{name}" if prefix else name
        if isinstance(value, dict):
            found.update(keys(value, key))
        else:
            found[key] = value
    return found


def catalogues(app):
    return {language: keys(json.loads((app / "locales" / f"{language}.json").read_text()))
            for language in ("zh-CN", "en")}


def used(app):
    literal, groups = set(), set()
    for path in [*app.rglob("*.vue"), *app.rglob("*.ts"), *(WEB / "shared").rglob("*.ts")]:
        text = path.read_text()
        literal.update(m.group(2) for m in LITERAL.finditer(text))
        groups.update(m.group(1).rstrip(".") for m in TEMPLATE.finditer(text))
    return literal, groups


def test_there_is_a_member_app_with_catalogues():
    assert WEB / "member" in APPS


@pytest.mark.parametrize("app", APPS, ids=lambda a: a.name)
def test_both_catalogues_hold_the_same_keys_and_no_empty_text(app):
    found = catalogues(app)
    assert set(found["zh-CN"]) - set(found["en"]) == set(), "in zh-CN, missing in en"
    assert set(found["en"]) - set(found["zh-CN"]) == set(), "in en, missing in zh-CN"
    for language, texts in found.items():
        assert not [k for k, v in texts.items() if not str(v).strip()], f"empty texts in {language}"


@pytest.mark.parametrize("app", APPS, ids=lambda a: a.name)
def test_every_key_a_screen_uses_is_in_both_catalogues(app):
    literal, groups = used(app)
    assert len(literal) > 100, "the scan found the screens' keys"
    for language, texts in catalogues(app).items():
        missing = sorted(k for k in literal if k not in texts and not any(t.startswith(f"{k}.") for t in texts))
        assert not missing, f"keys used but missing in {language}: {missing}"
        empty_groups = sorted(g for g in groups if g and not any(t.startswith(f"{g}.") for t in texts))
        assert not empty_groups, f"key groups used but missing in {language}: {empty_groups}"


def test_the_committed_api_document_is_the_apis_own():
    committed = json.loads((WEB / "shared" / "api" / "openapi.json").read_text())
    assert committed == build(route_table(None)), "web/shared/api/openapi.json is stale: run `make web-api` and commit it"


def test_there_is_a_staff_console_with_catalogues():
    assert WEB / "console" in APPS


SCREEN = re.compile(r"""^\s*(\w+): \{ roles: \[([^\]]*)\], api: "([A-Z]+) ([^"]+)" \},$""", re.M)


def test_each_console_screen_is_for_exactly_the_roles_its_api_allows():
    """The console's menu shows a screen to the roles the API lets do its work, no more and no fewer."""
    document = json.loads((WEB / "shared" / "api" / "openapi.json").read_text())
    screens = SCREEN.findall((WEB / "console" / "access.ts").read_text())
    assert len(screens) >= 4, "the scan found the console's screens"
    for name, roles, method, path in screens:
        described = document["paths"][path][method.lower()].get("description", "")
        allowed = re.search(r"Roles: ([a-z_, ]+)\.", described)
        assert allowed, f"{method} {path} ({name}) names no roles in the API document"
        assert set(re.findall(r'"(\w+)"', roles)) == {r.strip() for r in allowed.group(1).split(",")}, name
