"""Each service stands alone on services/common: it never imports another service's modules (its
schemas, its events, its rules). Services meet only through RPC and events, and a listener checks
an event against its own schema of what it reads (services/notify/schemas.py), so a producer may
add to its event, or move its modules, without breaking a service built and deployed apart."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = "common"


def _imported(node):
    """The dotted modules an import statement names (`from services import x` names services.x)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        if node.module == "services":
            return [f"services.{alias.name}" for alias in node.names]
        return [node.module]
    return []


def crossings(root=ROOT):
    """{(file, module)} for each import of another service's package by a service."""
    found = set()
    for path in (root / "services").rglob("*.py"):
        parts = path.relative_to(root / "services").parts
        if len(parts) < 2:
            continue  # services/__init__.py
        own = parts[0]
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            for name in _imported(node):
                pieces = name.split(".")
                if pieces[0] == "services" and len(pieces) > 1 and pieces[1] not in (own, SHARED):
                    found.add((path.relative_to(root).as_posix(), name))
    return found


def test_no_service_imports_another_services_modules():
    assert crossings() == set(), f"a service imports another service: {sorted(crossings())}"


def test_the_border_finds_every_form_of_import(tmp_path):
    (tmp_path / "services" / "notify").mkdir(parents=True)
    (tmp_path / "services" / "common").mkdir()
    for name, line in {"a": "from services.enrolment.schemas import EnrolmentEventSchema",
                       "b": "import services.venues.domain", "c": "from services import welfare",
                       "d": "def f():\n    from services.enrolment import events\n",
                       "e": "from services.common.errors import Invalid", "f": "from services.notify import labels",
                       "g": "import services_elsewhere.enrolment", "h": "from . import labels"}.items():
        (tmp_path / "services" / "notify" / f"{name}.py").write_text(line + "\n")
    (tmp_path / "services" / "common" / "x.py").write_text("from services.venues import domain\n")
    assert {file for file, _ in crossings(tmp_path)} == {
        f"services/notify/{name}.py" for name in "abcd"} | {"services/common/x.py"}
