"""The Dockerfile, checked without a container engine: its stages and user, and that the files it
copies are enough to build the package and to start every process compose runs from the image."""
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gateway import web
from ops import processes
from services.common.config import SERVICES

ROOT = Path(__file__).resolve().parent.parent


def stages():
    """[(base image, [(instruction, arguments)], name)] of the Dockerfile, in order."""
    found = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        if instruction.upper() == "FROM":
            words = rest.split()
            found.append((words[0], [], words[2] if len(words) == 3 and words[1].upper() == "AS" else None))
        else:
            found[-1][1].append((instruction.upper(), rest.split()))
    return found


def stage(name):
    return next(s for s in stages() if s[2] == name)


def copied(stage):
    """The build-context paths a stage copies, with where they land."""
    return [(args[:-1], args[-1]) for instruction, args in stage[1]
            if instruction == "COPY" and not args[0].startswith("--from")]


def assemble(stage, into):
    """Lay out what the stage copies from the build context, as the image would hold it."""
    into.mkdir()
    for sources, target in copied(stage):
        for source in sources:
            destination = into / (source if target in ("./", ".") else target)
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, destination, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(ROOT / source, destination)
    return into


def modules_started():
    """The Python modules the image's commands start: compose's processes, migrate and health."""
    names = {"ops.migrate", "ops.health", "ops.cli", "gateway.app"}
    for argv, _env in processes.commands().values():
        names.update(arg.removeprefix("python:") for arg in argv
                     if arg.startswith(("services.", "gateway.", "python:gateway.", "ops.")))
    return sorted(names)


def test_a_web_and_a_build_stage_then_a_slim_runtime_with_a_user_that_is_not_root():
    build, runtime = stage("build"), stages()[-1]
    assert [s[2] for s in stages()] == ["web", "build", None] and build[0] == runtime[0]
    assert runtime[0].endswith("-slim"), runtime[0]
    users = [args[0] for instruction, args in runtime[1] if instruction == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ["COPY", ["--from=build", "/venv", "/venv"]] in [[i, a] for i, a in runtime[1]]


def test_the_web_stage_builds_the_apps_from_the_lock_and_the_runtime_keeps_only_the_build():
    base, steps, _ = stage("web")
    assert re.fullmatch(r"node:\d+\.\d+-[a-z]+-slim", base), "a pinned Node (20.19+ for Vite)"
    runs = [" ".join(args) for instruction, args in steps if instruction == "RUN"]
    assert any("npm ci" in r for r in runs) and not any("npm install" in r for r in runs), "the lock decides"
    assert any("npm run build" in r for r in runs), "the build, with its stale-types check"
    copies = [args for instruction, args in steps if instruction == "COPY"]
    assert copies[0] == ["web/package.json", "web/package-lock.json", "./"], "the packages cached before the sources"
    runtime = stages()[-1][1]
    [(_, kept)] = [(i, a) for i, a in runtime if i == "COPY" and a[0] == "--from=web"]
    assert kept == ["--from=web", "/web/dist", "web/dist"]
    # where the gateway looks for the apps by default, seen from the image's /app
    assert web.web_root().relative_to(ROOT) == Path(kept[-1])


def test_the_build_context_leaves_out_local_packages_builds_and_secrets():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"web/node_modules", "web/dist", ".venv", ".env", "tests/browser/artefacts"} <= set(ignored)


def test_every_file_the_dockerfile_copies_exists():
    for each in stages():
        for sources, _target in copied(each):
            for source in sources:
                assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which is not in the repository"


@pytest.mark.slow
def test_the_build_stage_files_make_the_package_with_its_command(tmp_path):
    context = assemble(stage("build"), tmp_path / "build")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                    "-w", str(tmp_path / "wheel"), str(context)], check=True, cwd=tmp_path)
    [wheel] = (tmp_path / "wheel").glob("palace-*.whl")
    with zipfile.ZipFile(wheel) as made:
        names = made.namelist()
        entry_points = made.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "palace = ops.cli:main" in entry_points
    for module in modules_started():
        assert module.replace(".", "/") + ".py" in names, f"the wheel lacks {module}"


@pytest.mark.slow
def test_the_runtime_stage_starts_every_process_from_its_own_files(tmp_path):
    app = assemble(stages()[-1], tmp_path / "app")
    for service in SERVICES:
        assert list((app / "services" / service / "migrations").glob("*.sql")), f"{service} has no migrations"
    check = "import importlib, sys\nfor name in sys.argv[1:]:\n    print(importlib.import_module(name).__file__)"
    done = subprocess.run([sys.executable, "-c", check, *modules_started()], cwd=app, capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "PSYCOPG_WAIT_FUNC": "wait_selector"})
    assert done.returncode == 0, done.stderr
    files = done.stdout.split()
    assert len(files) == len(modules_started())
    assert all(Path(f).resolve().is_relative_to(app.resolve()) for f in files), files
