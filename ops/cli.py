"""`palace`: the ops command line (more commands arrive with the operations issue)."""
import argparse
import getpass
import os
import json
import sys
import warnings

import psycopg
import psycopg.rows

from services.common import config

warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")  # nameko imports it; not news to ops


def outbox_status(_args):
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
        print(json.dumps(dl.replay(args.queue), indent=2))
    elif args.queue:
        print(json.dumps(dl.peek(args.queue), indent=2, ensure_ascii=False))
    else:
        for queue, count in dl.counts().items():
            print(f"{count:>6}  {queue}")


def create_admin(args):
    """An admin account (or the admin role added to an existing one), from the command line."""
    from gateway import auth

    password = os.environ.get("PALACE_NEW_ADMIN_PASSWORD") or getpass.getpass("password for the new admin: ")
    if len(password) < 8:
        print("the password needs 8 characters or more", file=sys.stderr)
        return 2
    with psycopg.connect(config.db_url("gateway"), row_factory=psycopg.rows.dict_row) as conn:
        row = conn.execute("UPDATE accounts SET roles = array(SELECT DISTINCT unnest(roles || '{admin}'))"
                           " WHERE phone = %s AND deleted_at IS NULL RETURNING id", (args.phone,)).fetchone()
        if row is None:
            row = auth.create_account(conn, args.phone, args.name, password, ["admin"])
    print(f"admin {args.phone}: {row['id']}")
    return 0


def migrate(_args):
    from ops import migrate as m

    return m.main()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="palace", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create databases, apply migrations, declare queues").set_defaults(run=migrate)
    commands.add_parser("outbox", help="unsent events per service").set_defaults(run=outbox_status)
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
    args = parser.parse_args(argv)
    return args.run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
