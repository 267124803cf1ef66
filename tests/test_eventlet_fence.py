"""eventlet is deprecated upstream, and nameko 2.14 (its last release, 2021) stands on it. Until the
exit in docs/runtime.md, eventlet stays fenced in: the modules that import it today and the runner
that starts it, no more. A new `import eventlet` anywhere else fails here; reach for
`threading`, `time.sleep` or the Outbox / BatchEventHandler already in services/common instead (under
nameko they are green anyway, since the runner monkey-patches the standard library)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FENCED = {
    "ops/nameko_run.py",  # starts the hub for every nameko process (nameko's CLI did it before)
    "services/common/handlers.py",  # a pause before requeueing a failed event
    "services/common/batching.py",  # the batch consumer's green thread and event
    "services/notify/dispatch.py",  # the delivery loop's pauses and its pool
}


def eventlet_importers(root=ROOT):
    found = set()
    for folder in ("services", "gateway", "ops", "bench", "tests"):
        for path in (root / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                if any(name == "eventlet" or name.startswith("eventlet.") for name in names):
                    found.add(path.relative_to(root).as_posix())
    return found


def test_eventlet_is_imported_only_where_it_was_already():
    assert eventlet_importers() <= FENCED, f"a new eventlet import: {sorted(eventlet_importers() - FENCED)}"


def test_the_fence_finds_every_form_of_import(tmp_path):
    (tmp_path / "services").mkdir()
    for name, line in {"a": "import eventlet", "b": "from eventlet.event import Event",
                       "c": "import os, eventlet.greenpool", "d": "def f():\n    import eventlet\n",
                       "e": "import eventlets_are_not_it"}.items():
        (tmp_path / "services" / f"{name}.py").write_text(line + "\n")
    assert eventlet_importers(tmp_path) == {f"services/{name}.py" for name in "abcd"}
