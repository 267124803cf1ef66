"""The Python dependencies are locked with a hash for every file (requirements.lock for the image,
requirements-dev.lock for .venv), installed with --require-hashes, and made from pyproject.toml and
constraints.txt by one command (scripts/lock): a lock that no longer matches them fails here."""
import shutil
import subprocess
from pathlib import Path

from ops import locks

ROOT = Path(__file__).resolve().parent.parent


def test_the_locks_match_pyproject_and_constraints():
    assert locks.problems() == []


def copy_of_the_inputs(tmp_path):
    for name in ("pyproject.toml", "constraints.txt", *locks.LOCKS):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_a_pin_changed_in_pyproject_without_a_new_lock_is_found(tmp_path):
    root = copy_of_the_inputs(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"falcon==4.4.0"', '"falcon==4.3.0"'))
    found = locks.problems(root)
    assert any("falcon 4.4.0, pyproject.toml pins 4.3.0" in p for p in found), found
    assert any("other dependency lists" in p for p in found), found


def test_a_dependency_added_to_pyproject_makes_the_lock_stale(tmp_path):
    root = copy_of_the_inputs(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"tqdm==4.70.1",', '"tqdm==4.70.1", "six==1.17.0",'))
    assert locks.problems(root), "a new dependency needs a new lock"


def test_a_test_setting_changed_in_pyproject_keeps_the_lock(tmp_path):
    root = copy_of_the_inputs(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("timeout = 300", "timeout = 301"))
    assert locks.problems(root) == []


def test_a_lock_entry_without_its_hash_is_found(tmp_path):
    root = copy_of_the_inputs(tmp_path)
    lock = root / "requirements.lock"
    lines = lock.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("falcon=="))
    lines[at] = "falcon==4.4.0"
    while lines[at + 1].strip().startswith("--hash"):
        del lines[at + 1]
    lock.write_text("\n".join(lines) + "\n")
    assert any("no hash for falcon" in p for p in locks.problems(root))


def test_venv_and_image_install_only_hashed_files():
    bootstrap = (ROOT / "scripts" / "bootstrap").read_text()
    assert "--require-hashes -r requirements-dev.lock" in bootstrap
    assert "ops.locks --check" in bootstrap, "a stale lock is refused before anything is installed"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes -r requirements.lock" in dockerfile
    assert "--no-deps --no-build-isolation ." in dockerfile, "palace itself adds no unhashed download"


def test_setuptools_80_keeps_the_nameko_command_line_working():
    """nameko's CLI imports pkg_resources, which setuptools 81 removes: 80.x warns once and works."""
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "nameko"), "--version"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "2.14.1", done.stderr
    warnings = [line for line in done.stderr.splitlines() if "Warning" in line]
    assert len(warnings) == 1 and "pkg_resources is deprecated" in warnings[0], done.stderr
