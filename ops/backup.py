"""`palace backup` and `palace restore`: every part's database, dumped and put back.

A backup is a directory: one pg_dump file per part (custom format: compressed, restorable table
by table) and `manifest.json`, which says what it holds: the palace version, the PostgreSQL
server version, when each part was dumped, and each part's yoyo migration head, with each file's
size and sha256. Each dump is one consistent snapshot of its database; the parts are dumped one
after the other, and what crossed between them in that time is recovered by the outboxes (see
README, "Backups").

A restore checks everything before it touches anything: the manifest against this code (same
palace version, same migration head for every part), the server (not older than the one dumped),
and every file against its hash. Then each part is restored into a new database beside the old
one, and only when all of them are restored do they replace the old ones. The palace's processes
must be stopped: the old databases are dropped with their connections.

pg_dump and pg_restore must match the server's major version: PALACE_PG_BIN, or Debian's
/usr/lib/postgresql/<major>/bin, or the ones on PATH if they are that version."""
import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import psycopg
from psycopg import sql

from ops.migrate import migration_dirs
from services.common import config

FORMAT = 1
MANIFEST = "manifest.json"
DUMP_TIMEOUT = 3600


class Refused(Exception):
    """Why a restore will not start; nothing has been touched."""


def server_version(url=None):
    """(major, full version string) of the PostgreSQL server, asked of `url`: by default a part's own
    database (with PALACE_PG_PASSWORDS no role but the superuser has more); a restore, whose databases
    may be gone, asks the server's `postgres` database as the superuser it runs as."""
    with psycopg.connect(url or config.db_url("gateway"), connect_timeout=10) as conn:
        number = int(conn.execute("SHOW server_version_num").fetchone()[0])
        full = conn.execute("SHOW server_version").fetchone()[0]
    return number // 10000, full


def tool(name, major):
    """The pg_dump or pg_restore of the server's major version."""
    candidates = []
    if config.env("PALACE_PG_BIN"):
        candidates.append(Path(config.env("PALACE_PG_BIN")) / name)
    candidates.append(Path(f"/usr/lib/postgresql/{major}/bin") / name)
    if shutil.which(name):
        candidates.append(Path(shutil.which(name)))
    for path in candidates:
        if path.is_file() and _major_of(path) == major:
            return str(path)
    raise Refused(f"no {name} of PostgreSQL {major} (the server's version) here: install postgresql-client-{major}"
                  f" or set PALACE_PG_BIN to its bin directory")


def _major_of(path):
    try:
        said = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return None
    digits = said.split()[-1].split(".")[0] if said.split() else ""
    return int(digits) if digits.isdigit() else None


def code_head(part):
    """The newest migration this code has for a part (yoyo ids start with their number)."""
    ids = [p.stem for folder in migration_dirs(part) for p in folder.glob("*.sql")]
    return max(ids, key=_migration_order)


def _migration_order(migration_id):
    number, _, rest = migration_id.partition(".")
    return (int(number) if number.isdigit() else -1, rest)


def applied_head(conn):
    ids = [r[0] for r in conn.execute("SELECT migration_id FROM _yoyo_migration")]
    return max(ids, key=_migration_order) if ids else None


def palace_version():
    return metadata.version("palace")


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# backup

def backup(target, parts=config.DATABASES):
    """Dump every part into the new directory `target`; returns the manifest."""
    target = Path(target)
    major, full = server_version()
    pg_dump = tool("pg_dump", major)
    target.mkdir(parents=True, exist_ok=False)
    manifest = {"format": FORMAT, "palace_version": palace_version(), "postgresql": full,
                "postgresql_major": major, "started_at": now(), "parts": {}}
    for part in parts:
        with psycopg.connect(config.db_url(part), connect_timeout=10) as conn:
            head = applied_head(conn)
        started, file = time.monotonic(), target / f"{part}.dump"
        taken_at = now()
        done = subprocess.run([pg_dump, "--format=custom", "--file", str(file), "--dbname", config.db_url(part)],
                              capture_output=True, text=True, timeout=DUMP_TIMEOUT)
        if done.returncode != 0:
            raise RuntimeError(f"pg_dump of {config.db_name(part)} failed: {done.stderr.strip()[-500:]}")
        manifest["parts"][part] = {"database": config.db_name(part), "file": file.name, "taken_at": taken_at,
                                   "seconds": round(time.monotonic() - started, 2), "migration_head": head,
                                   "bytes": file.stat().st_size, "sha256": sha256(file)}
    manifest["finished_at"] = now()
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def prune(folder, keep):
    """Delete all but the `keep` newest backups (directories with a manifest) in `folder`."""
    backups = sorted((p for p in Path(folder).iterdir() if (p / MANIFEST).is_file()), key=lambda p: p.name)
    for old in backups[:-keep] if keep > 0 else []:
        shutil.rmtree(old)
    return [p.name for p in backups[-keep:]] if keep > 0 else [p.name for p in backups]


# restore

def check(source, parts=config.DATABASES):
    """The manifest of `source` if this code and server can take it; else Refused, saying why."""
    source = Path(source)
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError:
        raise Refused(f"{source} holds no {MANIFEST}: not a palace backup") from None
    except json.JSONDecodeError as exc:
        raise Refused(f"{source / MANIFEST} is not readable JSON ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise Refused(f"the backup's format is {manifest.get('format')!r}; this palace reads format {FORMAT}")
    if manifest.get("palace_version") != palace_version():
        raise Refused(f"the backup was taken by palace {manifest.get('palace_version')}, this is palace"
                      f" {palace_version()}: restore it with the version that took it, then upgrade")
    held = set(manifest.get("parts", {}))
    if held != set(parts):
        raise Refused(f"the backup holds {sorted(held)}, this palace has {sorted(parts)}")
    for part in parts:
        entry = manifest["parts"][part]
        if entry.get("migration_head") != code_head(part):
            raise Refused(f"{part}: the backup's schema is at migration {entry.get('migration_head')}, this code's at"
                          f" {code_head(part)}: restore it with the code that took it, then migrate")
    major, _full = server_version(f"{config.pg_server()}/postgres")
    if major < int(manifest.get("postgresql_major", 0)):
        raise Refused(f"the backup comes from PostgreSQL {manifest['postgresql']}; this server is {major}: older")
    for part in parts:
        entry = manifest["parts"][part]
        file = source / entry["file"]
        if not file.is_file():
            raise Refused(f"{part}: {file} is missing")
        if file.stat().st_size != entry["bytes"] or sha256(file) != entry["sha256"]:
            raise Refused(f"{part}: {file} is not the file the backup wrote (its size or sha256 differs)")
    return manifest


def restore(source, parts=config.DATABASES):
    """Put every part back from `source` (checked first: Refused changes nothing)."""
    source = Path(source)
    manifest = check(source, parts)
    major, _full = server_version(f"{config.pg_server()}/postgres")
    pg_restore = tool("pg_restore", major)
    staged = {part: f"{config.db_name(part)}__restoring" for part in parts}
    with psycopg.connect(f"{config.pg_server()}/postgres", autocommit=True, connect_timeout=10) as admin:
        try:
            for part, name in staged.items():
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                done = subprocess.run(
                    [pg_restore, "--exit-on-error", "--no-owner", "--no-acl", "--dbname",
                     f"{config.pg_server()}/{name}", str(source / manifest["parts"][part]["file"])],
                    capture_output=True, text=True, timeout=DUMP_TIMEOUT)
                if done.returncode != 0:
                    raise RuntimeError(f"pg_restore of {part} failed: {done.stderr.strip()[-500:]}")
        except BaseException:
            for name in staged.values():  # the old databases are untouched: only the staged ones go
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            raise
        for part, name in staged.items():
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(config.db_name(part))))
            admin.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                sql.Identifier(name), sql.Identifier(config.db_name(part))))
    return manifest


def resend_since(moment, parts=config.DATABASES):
    """Mark the events each part's outbox sent since `moment` as unsent: the relays publish them
    again, and consumers skip the ones they had already handled (processed_events). For a broker
    that lost its queues with the machine; the events never sent are in the outbox already."""
    marked = {}
    for part in parts:
        with psycopg.connect(config.db_url(part), connect_timeout=10) as conn:
            marked[part] = conn.execute("UPDATE outbox SET sent_at = NULL WHERE sent_at >= %s",
                                        (moment,)).rowcount
    return marked


def scheduled(folder, every, keep, stop=lambda: False):
    """The compose backup profile: a backup into `folder` every `every` seconds, `keep` kept."""
    while not stop():
        started = time.monotonic()
        name = datetime.now(timezone.utc).strftime("palace-%Y%m%dT%H%M%SZ")
        try:
            manifest = backup(Path(folder) / name)
            kept = prune(folder, keep)
            print(json.dumps({"backup": name, "bytes": sum(p["bytes"] for p in manifest["parts"].values()),
                              "seconds": round(time.monotonic() - started, 1), "kept": len(kept)}), flush=True)
        except Exception as exc:  # the database away for a moment: say so, try at the next turn
            print(json.dumps({"backup": name, "failed": str(exc)[:500]}), file=sys.stderr, flush=True)
        time.sleep(max(every - (time.monotonic() - started), 1))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ops.backup", description="backups on a schedule")
    parser.add_argument("--to", required=True, help="the folder the backups go into")
    parser.add_argument("--every", type=float, default=86400, help="seconds between two backups")
    parser.add_argument("--keep", type=int, default=7, help="how many backups to keep")
    args = parser.parse_args(argv)
    scheduled(args.to, args.every, args.keep)


if __name__ == "__main__":
    main()
