"""`python -m bench <scenario> [args]` runs bench/<scenario>.py's main(argv), after checking in one
line each what it needs: PostgreSQL, RabbitMQ and its management API, room for the bench's
connections, and the load tools a scenario names in TOOLS (installed by scripts/bench-tools)."""
import importlib
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def scenarios():
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_"))


def missing_tools(module):
    tools = getattr(module, "TOOLS", ())
    if all(shutil.which(tool) for tool in tools):
        return None
    try:
        subprocess.run([str(ROOT / "scripts" / "bench-tools")], timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired):
        pass
    absent = [tool for tool in tools if not shutil.which(tool)]
    if absent:
        return f"{module.__name__} needs {', '.join(absent)}: install it (apt-get install {' '.join(absent)}) or run make bench"
    return None


def ready(module):
    from bench._palace import PEAK
    from ops import preflight

    if preflight.main(["--management"]) != 0:
        return False
    problem = missing_tools(module) or preflight.check_connections(PEAK)
    if problem:
        print(f"bench: {problem}", file=sys.stderr)
        return False
    return True


def main(argv):
    if not argv or argv[0] not in scenarios():
        print(f"usage: python -m bench <scenario> [--quick]; scenarios: {', '.join(scenarios())}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"bench.{argv[0]}")
    if not ready(module):
        return 1
    return module.main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
