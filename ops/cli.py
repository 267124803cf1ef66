"""`palace`: the ops command line (more commands arrive with the operations issue)."""
import argparse
import json
import sys
import warnings

import psycopg

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

    if args.replay and args.queue == "palace.unrouted":
        print(json.dumps({"palace.unrouted": dl.replay_unrouted()}, indent=2))
    elif args.replay:
        print(json.dumps(dl.replay(args.queue), indent=2))
    elif args.queue:
        print(json.dumps(dl.peek(args.queue), indent=2, ensure_ascii=False))
    else:
        for queue, count in dl.counts().items():
            print(f"{count:>6}  {queue}")


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
    dlq.set_defaults(run=dead_letters)
    args = parser.parse_args(argv)
    return args.run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
