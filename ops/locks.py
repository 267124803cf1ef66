"""The Python dependency locks, with a hash for every file, made from pyproject.toml and
constraints.txt by one command: `scripts/lock` (uv, pinned in the dev extras).

- requirements.lock: what the image installs (the runtime dependencies);
- requirements-dev.lock: what .venv installs (the tests and tools too).

pip installs them with --require-hashes, so a file that changed on the index since the lock
was made is refused. Each lock starts with a digest of the dependency lists it was made from;
`python3 -m ops.locks --check` (scripts/bootstrap, and a test) says when a lock is stale.
Standard library only: bootstrap runs it before .venv exists."""
import hashlib
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = {"requirements.lock": [], "requirements-dev.lock": ["--extra", "dev"]}
MARK = "# inputs "
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;,#\\]+)")


def normal(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject(root):
    return tomllib.loads((root / "pyproject.toml").read_text())


def constraints(root=ROOT):
    lines = (root / "constraints.txt").read_text().splitlines()
    return sorted(line.split("#")[0].strip() for line in lines if line.split("#")[0].strip())


def inputs_digest(root=ROOT):
    """What the locks are made from: the dependency lists, not the rest of pyproject.toml (a test
    setting changed there does not make them stale)."""
    project = _pyproject(root)
    inputs = {"build": project["build-system"]["requires"], "dependencies": project["project"]["dependencies"],
              "extras": project["project"].get("optional-dependencies", {}), "constraints": constraints(root)}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def pins(text):
    """{normalised name: version} of the requirement lines of a lock or a dependency list."""
    found = {}
    for line in text.splitlines():
        match = PIN.match(line.strip())
        if match:
            found[normal(match.group(1))] = match.group(2)
    return found


def problems(root=ROOT):
    """Why the locks do not match pyproject.toml and constraints.txt; empty when they do."""
    found, digest = [], inputs_digest(root)
    project = _pyproject(root)
    wanted = {"requirements.lock": pins("\n".join(project["project"]["dependencies"]))}
    wanted["requirements-dev.lock"] = {**wanted["requirements.lock"],
                                       **pins("\n".join(sum(project["project"].get("optional-dependencies", {})
                                                            .values(), [])))}
    pinned = pins("\n".join(constraints(root)))
    for name in LOCKS:
        path = root / name
        if not path.exists():
            found.append(f"{name} is missing")
            continue
        text = path.read_text()
        if not text.startswith(f"{MARK}{digest}"):
            found.append(f"{name} was made from other dependency lists than pyproject.toml's and constraints.txt's")
        locked = pins(text)
        for package, version in wanted[name].items():
            if locked.get(package) != version:
                found.append(f"{name} has {package} {locked.get(package, 'missing')}, pyproject.toml pins {version}")
        for package, version in locked.items():
            if pinned.get(package) != version:
                found.append(f"{name} has {package} {version}, constraints.txt {pinned.get(package, 'lacks it')}")
        if any(line.startswith(("-e", "palace")) for line in text.splitlines()):
            found.append(f"{name} holds the palace package itself")
        unhashed = [p for p, block in _blocks(text) if "--hash=sha256:" not in block]
        if unhashed:
            found.append(f"{name} has no hash for {', '.join(unhashed)}")
    return found


def _blocks(text):
    """(package, its lines) for each requirement of a lock."""
    current, lines = None, []
    for line in text.splitlines():
        match = PIN.match(line)
        if match:
            if current:
                yield current, "\n".join(lines)
            current, lines = match.group(1), [line]
        elif current:
            lines.append(line)
    if current:
        yield current, "\n".join(lines)


def make(uv, root=ROOT):
    """Write both locks with uv, each headed by the digest of its inputs."""
    for name, extra in LOCKS.items():
        made = subprocess.run(
            [uv, "pip", "compile", "pyproject.toml", *extra, "-c", "constraints.txt", "--generate-hashes",
             "--python-version", "3.11", "--python-platform", "linux", "--no-header", "--quiet",
             "--custom-compile-command", "scripts/lock"],
            cwd=root, capture_output=True, text=True, timeout=600, check=False)
        if made.returncode != 0:
            raise SystemExit(f"uv could not make {name}:\n{made.stderr}")
        (root / name).write_text(f"{MARK}{inputs_digest(root)}: made by scripts/lock from pyproject.toml and"
                                 f" constraints.txt; do not edit\n{made.stdout}")


def main(argv):
    if argv[:1] == ["--check"]:
        found = problems()
        for problem in found:
            print(f"stale lock: {problem}; run scripts/lock", file=sys.stderr)
        return 1 if found else 0
    make(argv[0] if argv else str(ROOT / ".venv" / "bin" / "uv"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
