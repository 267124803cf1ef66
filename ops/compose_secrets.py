"""`python -m ops.compose_secrets [DIR]`: the secrets docker-compose.yml reads, made at random in DIR
(./secrets, which git ignores): `pg-<part>` the password of each part's PostgreSQL role (`pg-admin` the
superuser's), `amqp-<part>` the AMQP URI of each part's RabbitMQ user (ops/broker_users.py),
`metrics-token` the bearer token of the gateway's /metrics (the gateway's and Prometheus's). A file that
exists is kept, so running it again after an upgrade only adds what is new."""
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# run on the host before the first `docker compose up`, with python3 alone: no palace imports here
# (tests/test_compose.py checks these against ops.broker_users and services.common.config)
DATABASES = ("enrolment", "venues", "welfare", "notify", "gateway")
BROKER_USERS = ("enrolment", "venues", "welfare", "notify", "gateway-feed", "gateway", "ops")


def wanted():
    """secret name -> a new value for it."""
    made = {"pg-admin": secrets.token_urlsafe(24), "metrics-token": secrets.token_urlsafe(32)}
    made.update({f"pg-{part}": secrets.token_urlsafe(24) for part in DATABASES})
    for part in BROKER_USERS:
        made[f"amqp-{part}"] = f"amqp://palace-{part}:{secrets.token_urlsafe(24)}@rabbitmq:5672/"
    return made


def main(argv=()):
    target = Path(argv[0]) if argv else ROOT / "secrets"
    target.mkdir(mode=0o700, exist_ok=True)  # the directory keeps them from the host's other users
    for name, value in wanted().items():
        path = target / name
        if not path.exists():
            # readable by any user id, as compose mounts the file itself into containers that run as
            # their own users (postgres, rabbitmq, the palace image's)
            path.touch(mode=0o644)
            path.write_text(value + "\n")
            print(f"made {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
