"""`palace`: the ops command line. Long work shows a progress bar on a terminal, plain lines elsewhere."""
import argparse
import getpass
import json
import sys
import uuid
import warnings
from functools import partial

import psycopg
import psycopg.rows

from ops.progress import progress
from services.common import config

warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")  # nameko imports it; not news to ops


def outbox_status(args):
    if args.resend_since:
        from datetime import datetime

        from ops import backup as b

        try:
            since = datetime.fromisoformat(args.resend_since)
        except ValueError:
            print(f"--resend-since {args.resend_since!r} is not a time (ISO 8601, with its zone)", file=sys.stderr)
            return 2
        if since.tzinfo is None:
            print("--resend-since needs a zone (say 2027-03-01T02:00:00+00:00)", file=sys.stderr)
            return 2
        print(json.dumps({"marked_unsent": b.resend_since(since)}))
        return 0
    for service in config.DATABASES:
        with psycopg.connect(config.db_url(service)) as conn:
            unsent, oldest = conn.execute(
                "SELECT count(*), min(created_at) FROM outbox WHERE sent_at IS NULL").fetchone()
        print(f"{service:<10} unsent={unsent} oldest_unsent={oldest.isoformat() if oldest else '-'}")


def dead_letters(args):
    from ops import dead_letters as dl

    if args.drop:
        if not args.queue:
            print("--drop needs --queue: say which dead letters to drop", file=sys.stderr)
            return 2
        print(json.dumps({args.queue: dl.purge(args.queue)}))
    elif args.replay and args.queue == "palace.unrouted":
        print(json.dumps({"palace.unrouted": dl.replay_unrouted()}, indent=2))
    elif args.replay:
        print(json.dumps(dl.replay(args.queue, partial(progress, what="replaying dead letters")), indent=2))
    elif args.queue:
        print(json.dumps(dl.peek(args.queue), indent=2, ensure_ascii=False))
    else:
        for queue, count in dl.counts().items():
            print(f"{count:>6}  {queue}")


def create_admin(args):
    """An admin account (or the admin role added to an existing one), from the command line."""
    from gateway import auth, store
    from services.common.roles import ADMIN

    password = config.env("PALACE_NEW_ADMIN_PASSWORD") or getpass.getpass("password for the new admin: ")
    if len(password) < 8:
        print("the password needs 8 characters or more", file=sys.stderr)
        return 2
    with psycopg.connect(config.db_url("gateway"), row_factory=psycopg.rows.dict_row) as conn:
        account_id = store.grant_role(conn, args.phone, ADMIN)
        if account_id is None:
            account_id = auth.create_account(conn, args.phone, args.name, password, [ADMIN])["id"]
    print(f"admin {args.phone}: {account_id}")
    return 0


def migrate(_args):
    from ops import migrate as m

    return m.main(partial(progress, what="migrating"))


def backup(args):
    """Every part's database into a new directory (a dump per part and manifest.json)."""
    from datetime import datetime, timezone
    from pathlib import Path

    from ops import backup as b

    folder = Path(args.to or config.env("PALACE_BACKUP_DIR"))
    target = folder / datetime.now(timezone.utc).strftime("palace-%Y%m%dT%H%M%SZ")
    try:
        manifest = b.backup(target)
    except b.Refused as exc:
        print(f"no backup: {exc}", file=sys.stderr)
        return 2
    kept = b.prune(folder, args.keep) if args.keep else None
    print(json.dumps({"backup": str(target), "parts": {p: {"bytes": e["bytes"], "migration_head": e["migration_head"]}
                                                      for p, e in manifest["parts"].items()},
                      **({"kept": kept} if kept is not None else {})}, indent=2))
    return 0


def restore(args):
    """Every part's database from a backup, after checking it all; the palace must be stopped."""
    from ops import backup as b

    try:
        if not args.yes:
            b.check(args.source)
            print(f"{args.source} can be restored: it replaces every palace database (stop the palace first);"
                  " add --yes to go ahead", file=sys.stderr)
            return 2
        manifest = b.restore(args.source)
    except b.Refused as exc:
        print(f"refused, nothing restored: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"restored": args.source, "taken": manifest["started_at"],
                      "parts": sorted(manifest["parts"])}))
    print(f"next: start the palace; its relays send what the outboxes had not. If the broker lost its"
          f" queues too: palace outbox --resend-since {manifest['started_at']}", file=sys.stderr)
    return 0


def holidays_import(args):
    """A year's holiday calendar (or several) into venues, every file checked before anything is written."""
    from services.venues import holidays

    try:
        with progress(len(args.files), "importing holiday calendars") as step:
            loaded = holidays.load(args.files, replace=args.replace, progress=step)
    except holidays.CalendarFileError as exc:
        print(f"refused, nothing imported: {exc}", file=sys.stderr)
        return 2
    for year in loaded:
        print(json.dumps(year))
    if not all(year["loaded"] for year in loaded):
        print("a year loaded before is kept (it may have been edited since): --replace to load it again",
              file=sys.stderr)
    return 0


def lottery_rerun(args):
    """Audit a draw: recompute its seed from the course and draw time, re-run it from the stored seed
    and inputs, and compare with the recorded result. Reads enrolment's database, not the service."""
    from services.common.errors import NotFound
    from services.enrolment import domain, store

    try:
        course_id = uuid.UUID(args.course_id)
    except ValueError:
        print(f"{args.course_id!r} is not a course id", file=sys.stderr)
        return 2
    try:
        with psycopg.connect(config.db_url("enrolment"), row_factory=psycopg.rows.dict_row) as conn:
            draw = store.get_lottery(conn, course_id)
    except NotFound:
        print(f"course {course_id} has no recorded draw", file=sys.stderr)
        return 2
    print(f"course {course_id}: drawn {draw['drawn_at'].isoformat()}, {len(draw['inputs'])} entries"
          f" for {draw['seats']} seats, seed {draw['seed']}")
    problems = []
    if domain.lottery_seed(str(course_id), draw["drawn_at"]) != draw["seed"]:
        problems.append("the seed is not the one the course and the draw time give")
    again = domain.draw(draw["seed"], draw["inputs"], draw["seats"])
    for rank, (recorded, rerun) in enumerate(zip(draw["result"], again), start=1):
        if recorded != rerun:
            problems.append(f"rank {rank}: recorded {recorded.get('enrolment_id')} {recorded.get('outcome')},"
                            f" the re-run gives {rerun['enrolment_id']} {rerun['outcome']}")
    if len(draw["result"]) != len(again):
        problems.append(f"recorded {len(draw['result'])} outcomes, the re-run gives {len(again)}")
    if problems:
        print("MISMATCH: the re-run does not give the recorded result", *problems, sep="\n  ")
        return 1
    confirmed = sum(r["outcome"] == domain.CONFIRMED for r in again)
    print(f"match: the re-run gives the recorded result ({confirmed} confirmed,"
          f" {len(again) - confirmed} waitlisted)")
    return 0


REGENERATE_SECONDS = 900  # a course per transaction, each asking venues for its calendar and room


def courses_regenerate(args):
    """Courses made before the recurrence helper: their weekly sessions still to come laid out again on
    the working calendar (调休 make-up days gain a class, public holidays lose one). Shows what changes;
    --apply makes it (enrolment does, through its timetable change: rooms rebooked, members told).
    Sessions begun or held and their attendance are not touched; a second run finds nothing."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.common import trust

    with ClusterRpcProxy({"AMQP_URI": config.amqp_uri(), "serializer": "json"}, timeout=REGENERATE_SECONDS,
                         context_data=trust.sign({}, trust.OPS, ttl=REGENERATE_SECONDS)) as rpc:
        found = rpc.enrolment.regenerate_timetables(args.apply)
    for course in found:
        print(json.dumps(course, ensure_ascii=False))
    changed = [c for c in found if "problem" not in c]
    print(f"{len(changed)} course(s) {'laid out again' if args.apply else 'to lay out again (--apply)'},"
          f" {len(found) - len(changed)} refused", file=sys.stderr)
    return 1 if len(changed) < len(found) else 0


def welfare_keys(args):
    """How many sealed values each key of welfare's ring holds (read from their heads: no key needed)."""
    from services.welfare import store

    with psycopg.connect(config.db_url("welfare"), row_factory=psycopg.rows.dict_row) as conn:
        for row in store.sealed_counts(conn):
            print(f"{row['table'] + '.' + row['column']:<36} {row['key_id']:<32} {row['n']:>8}")


def welfare_rotate_key(args):
    """Reseal every row under an older key of the ring (or from before sealing) under its current
    key, in batches of PALACE_WELFARE_RESEAL_BATCH, each its own transaction (welfare keeps serving)."""
    from services.welfare import crypto, store

    try:
        ring = crypto.ring()
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 2
    batch, total = int(config.env("PALACE_WELFARE_RESEAL_BATCH")), 0
    with psycopg.connect(config.db_url("welfare"), row_factory=psycopg.rows.dict_row) as conn:
        while True:
            with conn.transaction():
                done = store.reseal(conn, batch)
            total += done
            if done == 0:
                break
            print(f"resealed {total} values under key {ring.current}", flush=True)
        left = [r for r in store.sealed_counts(conn) if r["key_id"] != ring.current]
    print(json.dumps({"current_key": ring.current, "resealed": total, "not_under_current_key": left}))
    return 1 if any(r["key_id"] not in ring.ids for r in left) else 0


def welfare_new_key(args):
    from services.welfare import crypto

    print(crypto.new_key())


def main(argv=None):
    parser = argparse.ArgumentParser(prog="palace", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create databases, apply migrations, declare queues").set_defaults(run=migrate)
    outbox = commands.add_parser("outbox", help="unsent events per service")
    outbox.add_argument("--resend-since", metavar="TIME", help="mark the events sent since TIME (ISO 8601) unsent:"
                                                               " the relays publish them again (after a restore)")
    outbox.set_defaults(run=outbox_status)
    save = commands.add_parser("backup", help="dump every part's database (pg_dump custom format) with a manifest")
    save.add_argument("--to", help="folder the backup directory goes into (PALACE_BACKUP_DIR, ./backups)")
    save.add_argument("--keep", type=int, help="then keep only the newest KEEP backups there")
    save.set_defaults(run=backup)
    back = commands.add_parser("restore", help="put every part's database back from a backup directory")
    back.add_argument("source", help="a backup directory (with its manifest.json)")
    back.add_argument("--yes", action="store_true", help="go ahead: the current databases are replaced")
    back.set_defaults(run=restore)
    dlq = commands.add_parser("dead-letters", help="list, show or replay dead-lettered events")
    dlq.add_argument("--queue", help="show (or with --replay, replay) only this handler's queue")
    dlq.add_argument("--replay", action="store_true", help="send dead letters back to their queue")
    dlq.add_argument("--drop", action="store_true", help="delete the dead letters of --queue for good")
    dlq.set_defaults(run=dead_letters)
    admin = commands.add_parser("create-admin", help="create an admin account (password asked, or from"
                                                     " PALACE_NEW_ADMIN_PASSWORD)")
    admin.add_argument("--phone", required=True)
    admin.add_argument("--name", default="Administrator")
    admin.set_defaults(run=create_admin)
    holidays = commands.add_parser("holidays", help="the holiday calendar").add_subparsers(dest="action",
                                                                                             required=True)
    load = holidays.add_parser("import", help="load year files (services/venues/calendar/YYYY.json format)")
    load.add_argument("files", nargs="+", metavar="FILE")
    load.add_argument("--replace", action="store_true", help="replace a year loaded before, with its edits")
    load.set_defaults(run=holidays_import)
    lottery = commands.add_parser("lottery", help="lottery audits").add_subparsers(dest="action", required=True)
    rerun = lottery.add_parser("rerun", help="re-run a course's draw from its stored seed and inputs;"
                                             " exit 1 if it does not give the recorded result")
    rerun.add_argument("course_id")
    rerun.set_defaults(run=lottery_rerun)
    courses = commands.add_parser("courses", help="class timetables").add_subparsers(dest="action", required=True)
    regenerate = courses.add_parser("regenerate", help="lay out again, on the working calendar (调休), the sessions to"
                                                       " come of courses made before it; exit 1 if one was refused")
    regenerate.add_argument("--apply", action="store_true", help="change them (without it: show what would change)")
    regenerate.set_defaults(run=courses_regenerate)
    welfare = commands.add_parser("welfare", help="welfare's key ring").add_subparsers(dest="action", required=True)
    welfare.add_parser("keys", help="how many sealed values each key id holds").set_defaults(run=welfare_keys)
    welfare.add_parser("new-key", help="print a fresh key (put it first in PALACE_WELFARE_KEYS as id:key)"
                       ).set_defaults(run=welfare_new_key)
    welfare.add_parser("rotate-key", help="reseal everything under the ring's current key, in batches;"
                                          " exit 1 if values remain under a key the ring does not hold"
                       ).set_defaults(run=welfare_rotate_key)
    args = parser.parse_args(argv)
    return args.run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
