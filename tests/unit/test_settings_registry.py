"""Every setting the code reads is in the registry (services/common/settings.py), read through
config.env (so NAME_FILE works for it), and the README's table is the one the registry makes."""
import ast
import re
from pathlib import Path

import pytest

from ops import settings as readme
from ops.processes import nameko_config
from services.common import config
from services.common.settings import BY_NAME, REGISTRY

ROOT = Path(__file__).resolve().parents[2]
CODE = ("services", "gateway", "ops")
SETTING_LIKE = re.compile(r"PALACE_[A-Z0-9_]+|AMQP_URI")


def _is_os_environ(node):
    return isinstance(node, ast.Attribute) and node.attr == "environ" and getattr(node.value, "id", "") == "os"


def _reads(tree):
    """(name, how, line) of each environment read with a literal name: config.env("X") or env("X"),
    os.environ.get("X"), os.getenv("X"), os.environ["X"]; and (name, "named", line) of each literal
    that looks like a setting (PALACE_..., AMQP_URI), e.g. passed on to Limit.from_env."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name, func = node.args[0].value, node.func
            if not isinstance(name, str):
                continue
            if (isinstance(func, ast.Name) and func.id == "env") or \
                    (isinstance(func, ast.Attribute) and func.attr == "env" and getattr(func.value, "id", "") == "config"):
                yield name, "config.env", node.lineno
            elif isinstance(func, ast.Attribute) and (
                    (func.attr == "get" and _is_os_environ(func.value))
                    or (func.attr == "getenv" and getattr(func.value, "id", "") == "os")):
                yield name, "os.environ", node.lineno
        elif isinstance(node, ast.Subscript) and _is_os_environ(node.value) and isinstance(node.ctx, ast.Load) \
                and isinstance(node.slice, ast.Constant):
            yield node.slice.value, "os.environ", node.lineno
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SETTING_LIKE.fullmatch(node.value):
            yield node.value, "named", node.lineno


def _every_read():
    for folder in CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for name, how, line in _reads(ast.parse(path.read_text(encoding="utf-8"))):
                yield f"{path.relative_to(ROOT)}:{line}", name, how


def test_the_scan_finds_the_reads_it_must_check():
    found = {(where.split(":")[0], name) for where, name, _ in _every_read()}
    assert ("gateway/limits.py", "PALACE_ENROL_LIMIT") in found  # handed to Limit.from_env
    assert ("gateway/gunicorn_conf.py", "PALACE_HTTP_PORT") in found
    assert ("services/common/db.py", "PSYCOPG_WAIT_FUNC") in found  # os.environ
    assert ("services/common/config.py", "AMQP_URI") in found


def test_every_setting_the_code_reads_is_registered():
    missing = sorted(f"{where} {name}" for where, name, _ in _every_read() if name not in BY_NAME)
    assert not missing, "add these to services/common/settings.py:\n" + "\n".join(missing)


def test_palace_reads_its_settings_through_config_env_so_NAME_FILE_works():
    """os.environ only for what a library reads itself (psycopg, prometheus_client)."""
    direct = sorted(f"{where} {name}" for where, name, how in _every_read()
                    if how == "os.environ" and name in BY_NAME and not BY_NAME[name].library)
    assert not direct, "read these with config.env:\n" + "\n".join(direct)


def test_a_setting_is_registered_once_with_a_meaning_and_its_readers():
    names = [setting.name for setting in REGISTRY]
    assert len(names) == len(set(names))
    for setting in REGISTRY:
        assert setting.about and setting.parts, setting.name


def test_reading_an_unregistered_setting_fails_at_once():
    with pytest.raises(KeyError, match="PALACE_NO_SUCH_THING is not a registered setting"):
        config.env("PALACE_NO_SUCH_THING")


def test_an_unset_setting_takes_its_registered_default(monkeypatch):
    monkeypatch.delenv("PALACE_NOTIFY_MAIL_FROM", raising=False)
    monkeypatch.delenv("PALACE_NOTIFY_MAIL_FROM_FILE", raising=False)
    assert config.env("PALACE_NOTIFY_MAIL_FROM") == BY_NAME["PALACE_NOTIFY_MAIL_FROM"].default == "palace@localhost"


def test_nameko_config_is_built_from_the_registry(monkeypatch):
    for name in ("AMQP_URI", "PALACE_MAX_WORKERS", "PALACE_LOG_LEVEL", "PALACE_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    settings = nameko_config()
    assert settings["AMQP_URI"] == BY_NAME["AMQP_URI"].default
    assert settings["max_workers"] == int(BY_NAME["PALACE_MAX_WORKERS"].default)


def test_the_readme_table_is_the_one_the_registry_makes():
    text = readme.README.read_text(encoding="utf-8")
    assert readme.with_table(text) == text, \
        "README.md's configuration table is stale: run `python -m ops.settings --readme`"
