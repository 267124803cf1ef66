"""`python -m bench <scenario> [args]` runs bench/<scenario>.py's main(argv)."""
import importlib
import pkgutil
import sys
from pathlib import Path


def scenarios():
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_"))


def main(argv):
    if not argv or argv[0] not in scenarios():
        print(f"usage: python -m bench <scenario> [--quick]; scenarios: {', '.join(scenarios())}", file=sys.stderr)
        return 2
    return importlib.import_module(f"bench.{argv[0]}").main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
