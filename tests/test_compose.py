"""docker-compose.yml runs what `make run` runs: same processes, same commands, same settings."""
import json
import os
import re
import subprocess
from pathlib import Path

import yaml

from ops import broker_users, processes
from services.common import config, trust
from services.common.settings import lookup

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_every_process_of_make_run_has_its_compose_service_with_the_same_command():
    for name, (argv, env) in processes.commands().items():
        assert name in SERVICES, f"{name} is missing from docker-compose.yml"
        assert SERVICES[name]["command"] == argv
        for key, value in env.items():
            assert SERVICES[name]["environment"].get(key) == value, f"{name} lacks {key}={value}"


def test_migrate_runs_once_before_the_services():
    assert SERVICES["migrate"]["command"] == processes.MIGRATE
    assert SERVICES["migrate"]["restart"] == "no"
    for name in processes.commands():
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_services_scale_and_the_broker_and_database_report_health():
    for name in processes.commands():
        assert "container_name" not in SERVICES[name]
        if name != "gateway":  # the front door alone publishes a port
            assert "ports" not in SERVICES[name]
    for name in ("postgres", "rabbitmq"):
        assert SERVICES[name]["healthcheck"]["test"]
    assert "management" in SERVICES["rabbitmq"]["image"]


def test_every_setting_the_parts_read_is_given_to_them():
    for name in (*processes.commands(), "migrate"):
        env = SERVICES[name]["environment"]
        assert {"AMQP_URI_FILE", "PALACE_PG", "PALACE_PG_PASSWORDS", "PALACE_DB_PREFIX"} <= set(env), name


def test_no_secret_is_committed():
    text = (ROOT / "docker-compose.yml").read_text()
    assert "change-me" not in text and "guest" not in text
    assert {".env", "/secrets/"} <= set((ROOT / ".gitignore").read_text().split())
    for secret in COMPOSE["secrets"].values():
        assert secret["file"].startswith("./secrets/"), secret


def test_the_shipped_gateway_hashes_passwords_in_full():
    """PALACE_PASSWORD_HASHING=cheapest is for test stacks: no compose file may set it."""
    for path in ("docker-compose.yml", "compose.dev.yml", ".env.example"):
        assert "PALACE_PASSWORD_HASHING" not in (ROOT / path).read_text(), path


def test_every_process_reports_its_health_and_is_bounded():
    for name in processes.commands():
        check = SERVICES[name]["healthcheck"]["test"]
        assert check[:4] == ["CMD", "python", "-m", "ops.health"], name
        assert SERVICES[name]["deploy"]["resources"]["limits"]["memory"], name
        assert SERVICES[name]["restart"] == "unless-stopped", name
    for name in processes.commands():
        if name != "gateway":  # nameko services serve their metrics where their health check looks
            assert SERVICES[name]["environment"]["PALACE_METRICS_PORT"] == "9100"


def test_the_databases_and_the_broker_keep_their_data_in_named_volumes():
    assert {"pgdata", "rabbitdata"} <= set(COMPOSE["volumes"])
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    assert "rabbitdata:/var/lib/rabbitmq" in SERVICES["rabbitmq"]["volumes"]


def test_the_development_override_only_adds_to_known_services():
    override = yaml.safe_load((ROOT / "compose.dev.yml").read_text())
    assert set(override["services"]) <= set(SERVICES)
    for name in processes.commands():
        assert name in override["services"], f"{name} has no development settings"


def test_compose_postgresql_allows_every_service_at_two_instances():
    """README: raise max_connections to cover instances x PALACE_DB_POOL_SIZE (and the gateway's)."""
    from ops.preflight import palace_connections

    command = SERVICES["postgres"]["command"]
    allowed = int(next(arg.split("=", 1)[1] for arg in command if arg.startswith("max_connections=")))
    assert allowed >= palace_connections(10, 16, 2 * 2, extra_instances=len(processes.commands()) - 1)


def test_the_backup_profile_backs_up_on_a_schedule_into_a_volume_with_retention():
    backup = SERVICES["backup"]
    assert backup["profiles"] == ["backup"] and backup["image"] == "palace:latest"
    command = backup["command"]
    assert command[:3] == ["python", "-m", "ops.backup"]
    assert command[command.index("--to") + 1] == "/backups" and "--every" in command and "--keep" in command
    assert "backups:/backups" in backup["volumes"] and "backups" in COMPOSE["volumes"]
    assert {"PALACE_PG", "PALACE_DB_PREFIX"} <= set(backup["environment"])
    assert backup["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "postgresql-client-15" in (ROOT / "Dockerfile").read_text(), "pg_dump of the server's major version"


def test_the_gateway_serves_the_web_apps_built_into_the_image():
    """The image's web stage puts the built apps where the gateway looks by default (tests/test_image.py);
    compose must not point it elsewhere, and its published port is where members open the app."""
    gateway = SERVICES["gateway"]
    assert "PALACE_WEB_ROOT" not in gateway["environment"]
    assert any(str(port).endswith(":8000") for port in gateway["ports"])
    assert gateway["healthcheck"]["test"][-1].endswith("/healthz"), "the health check asks the API, not a page"


# each secret exactly where it is used
CONTEXT_KEY_HOLDERS = {"gateway", "gateway-feed", "enrolment", "venues", "welfare", "notify"}
RESET_CODE_KEY_HOLDERS = {"gateway", "notify"}
SECRET_HOLDERS = {"PALACE_CONTEXT_KEY": CONTEXT_KEY_HOLDERS, "PALACE_RESET_CODE_KEY": RESET_CODE_KEY_HOLDERS,
                  "PALACE_TOKEN_SECRET": {"gateway"}, "PALACE_WELFARE_KEYS": {"welfare"},
                  "PALACE_WELFARE_FINGERPRINT_KEY": {"welfare"},
                  "PALACE_ADMIN_PASSWORD": {"gateway"}}


def _holders(setting):
    return {name for name, service in SERVICES.items() if setting in (service.get("environment") or {})}


def test_the_signing_key_reaches_the_gateway_and_the_services_and_nothing_else():
    assert _holders("PALACE_CONTEXT_KEY") == CONTEXT_KEY_HOLDERS
    assert CONTEXT_KEY_HOLDERS == set(processes.commands())  # every process that calls or serves RPCs
    for name in CONTEXT_KEY_HOLDERS:
        assert SERVICES[name]["environment"]["PALACE_CONTEXT_KEY"] == "${PALACE_CONTEXT_KEY:?set it in .env}"


def test_the_reset_code_key_reaches_the_gateway_and_notify_only():
    assert _holders("PALACE_RESET_CODE_KEY") == RESET_CODE_KEY_HOLDERS
    for name in RESET_CODE_KEY_HOLDERS:
        assert SERVICES[name]["environment"]["PALACE_RESET_CODE_KEY"] == "${PALACE_RESET_CODE_KEY:?set it in .env}"


def test_each_palace_secret_reaches_only_the_containers_that_use_it():
    for setting, holders in SECRET_HOLDERS.items():
        assert _holders(setting) == holders, setting


def test_metrics_are_internal_the_token_only_where_it_is_read_and_no_service_port_published():
    """The gateway checks the metrics token, Prometheus presents it (monitoring/prometheus.yml); the
    services serve their metrics inside the private network alone (127.0.0.1 outside compose)."""
    assert {name for name in SERVICES if "metrics-token" in _secrets(name)} == {"gateway", "prometheus"}
    assert SERVICES["gateway"]["environment"]["PALACE_METRICS_TOKEN_FILE"] == "/run/secrets/metrics-token"
    assert lookup("PALACE_METRICS_HOST").default == "127.0.0.1"
    for name in processes.commands():
        if name != "gateway":
            assert SERVICES[name]["environment"]["PALACE_METRICS_HOST"] == "0.0.0.0" and "ports" not in SERVICES[name]


# least privilege: a broker user and a database role per part, each password where it is used

BROKER = json.loads(broker_users.DEFINITIONS.read_text())
DB_PART = {"enrolment": "enrolment", "venues": "venues", "welfare": "welfare", "notify": "notify",
           "gateway-feed": "gateway", "gateway": "gateway"}


def _secrets(name):
    return set(SERVICES[name].get("secrets") or [])


def _grant(part):
    user = broker_users.user(part)
    resources = next(p for p in BROKER["permissions"] if p["user"] == user)
    topic = next((t for t in BROKER["topic_permissions"] if t["user"] == user and t["exchange"] == "nameko-rpc"), None)
    return resources, topic


def _may(regex, name):
    return re.search(regex, name) is not None


def test_the_broker_definitions_are_the_ones_the_code_makes():
    assert broker_users.main(["--check"]) == 0, "run python -m ops.broker_users"
    assert {u["name"] for u in BROKER["users"]} == {broker_users.user(p) for p in (*broker_users.PARTS, "ops")}
    assert all(u["password"].startswith("{{") for u in BROKER["users"]), "no password is committed"
    assert set(broker_users.PARTS) == set(processes.commands())


def test_each_part_uses_its_own_broker_user_given_as_a_secret():
    for part in processes.commands():
        env = SERVICES[part]["environment"]
        assert "AMQP_URI" not in env and env["AMQP_URI_FILE"] == f"/run/secrets/amqp-{part}", part
        assert {s for s in _secrets(part) if s.startswith("amqp-")} == {f"amqp-{part}"}, part
    assert SERVICES["migrate"]["environment"]["AMQP_URI_FILE"] == "/run/secrets/amqp-ops"
    assert not any(s.startswith("amqp-") for s in _secrets("backup")), "backups never touch the broker"
    # the broker alone holds every URI: it fills their passwords into the definitions it loads
    assert _secrets("rabbitmq") == {f"amqp-{p}" for p in (*processes.commands(), "ops")}
    assert not any(s.startswith("amqp-") for s in _secrets("postgres"))
    rabbit = SERVICES["rabbitmq"]
    assert rabbit["entrypoint"] == ["/etc/rabbitmq/palace/entrypoint.sh"]
    assert "./ops/rabbitmq:/etc/rabbitmq/palace:ro" in rabbit["volumes"]
    conf = (ROOT / "ops" / "rabbitmq" / "palace.conf").read_text()
    assert "load_definitions = /tmp/palace-definitions.json" in conf
    assert "RABBITMQ_DEFAULT_PASS" not in (rabbit.get("environment") or {})


def test_only_the_gateway_may_publish_a_request_to_every_service():
    """Requests and answers share the nameko-rpc exchange, so the routing key decides (topic
    permissions): `<service>.<method>` for a request, the caller's reply queue's uuid for an answer."""
    every = {f"{s}.{m}" for s in broker_users.topology.SERVICE_CLASSES for m in broker_users.rpc_methods(s)}
    for part in broker_users.PARTS:
        _resources, topic = _grant(part)
        allowed = {key for key in every if _may(topic["write"], key)}
        signer = broker_users.PARTS[part] or "gateway"
        for key in allowed:
            service, method = key.split(".")
            assert method in trust.ANY_PART or signer in trust.ALLOWED.get(key, trust.GATEWAY_ONLY), (part, key)
        if part == "gateway":
            assert "welfare.decide" in allowed and "welfare.pay" in allowed and "venues.availability" in allowed
            assert "venues.release_series" not in allowed  # the services' (ALLOWED), not the gateway's
        else:
            assert not any(k.startswith("welfare.") for k in allowed), part  # nobody but the gateway calls welfare
    enrolment = _grant("enrolment")[1]["write"]
    assert _may(enrolment, "venues.get_room") and not _may(enrolment, "welfare.decide")
    assert not _may(enrolment, "venues.release_no_shows") and not _may(enrolment, "venues.set_calendar_day")
    assert _may(_grant("notify")[1]["write"], "gateway.staff")
    assert not _may(_grant("gateway-feed")[1]["write"], "notify.broadcast")
    answer = "0b5a4b4e-8d3c-4f5e-9a1b-2c3d4e5f6a7b"
    for part in broker_users.PARTS:  # a service answers its callers; the gateway serves no RPC
        assert _may(_grant(part)[1]["write"], answer) == (part != "gateway"), part


def test_a_part_declares_and_reads_its_own_queues_and_publishes_its_own_events_only():
    for part, service in broker_users.PARTS.items():
        resources, topic = _grant(part)
        others = [s for s in broker_users.topology.SERVICE_CLASSES if s != service]
        for other in others:
            assert not _may(resources["configure"], f"rpc-{other}"), (part, other)
            assert not _may(resources["read"], f"rpc-{other}"), (part, other)
            assert not _may(resources["write"], f"{other}.events"), (part, other)
            assert not _may(topic["read"], f"{other}.*"), (part, other)  # no queue bound to catch its calls
            assert not _may(resources["read"], f"evt-enrolment-course_published--{other}.on_course_published")
        if service:
            assert _may(resources["configure"], f"rpc-{service}") and _may(resources["read"], f"rpc-{service}")
            assert _may(resources["write"], f"{service}.events")
            assert _may(topic["read"], f"{service}.*")
    notify = _grant("notify")[0]
    for queue in ("evt-enrolment-enrolment_cancelled--notify.on_cancelled",
                  "evt-enrolment-enrolment_cancelled--notify.on_cancelled.retry.5000ms",
                  "evt-enrolment-enrolment_cancelled--notify.on_cancelled.dead"):
        assert _may(notify["configure"], queue) and _may(notify["read"], queue)
    ops = next(p for p in BROKER["permissions"] if p["user"] == "palace-ops")
    assert ops["configure"] == ops["write"] == ops["read"] == ".*"


def test_each_part_connects_to_its_own_database_as_its_own_role():
    assert SERVICES["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/pg-admin"
    assert "./ops/postgres/10-palace-roles.sh:/docker-entrypoint-initdb.d/10-palace-roles.sh:ro" in \
        SERVICES["postgres"]["volumes"]
    assert _secrets("postgres") == {"pg-admin", *(f"pg-{part}" for part in config.DATABASES)}
    for part, database in DB_PART.items():
        env = SERVICES[part]["environment"]
        assert env["PALACE_PG_PASSWORDS"] == "/run/secrets" and "@" not in env["PALACE_PG"], part
        assert {s for s in _secrets(part) if s.startswith("pg-")} == {f"pg-{database}"}, part
    for name in ("migrate", "backup"):  # migrations run, and dumps are taken, as each database's owner
        assert {s for s in _secrets(name) if s.startswith("pg-")} == {f"pg-{part}" for part in config.DATABASES}
    holders = {name for name, service in SERVICES.items() if "pg-admin" in (service.get("secrets") or [])}
    assert holders == {"postgres"}, "the superuser's password is the database's alone"


def test_the_secrets_made_for_compose_are_the_ones_it_reads():
    from ops import compose_secrets

    assert set(compose_secrets.wanted()) == set(COMPOSE["secrets"])
    assert compose_secrets.DATABASES == config.DATABASES
    assert set(compose_secrets.BROKER_USERS) == {*broker_users.PARTS, broker_users.OPS}
    used = {s for service in SERVICES.values() for s in service.get("secrets") or []}
    assert used == set(COMPOSE["secrets"])


def test_the_broker_fills_each_user_s_password_from_its_part_s_uri(tmp_path):
    made = compose_secrets_in(tmp_path / "secrets")
    filled = tmp_path / "filled.json"
    env = {"PATH": os.environ["PATH"], "PALACE_BROKER_DEFINITIONS": str(broker_users.DEFINITIONS),
           "PALACE_BROKER_SECRETS": str(tmp_path / "secrets"), "PALACE_BROKER_FILLED": str(filled)}
    entrypoint = str(ROOT / "ops" / "rabbitmq" / "entrypoint.sh")
    done = subprocess.run([entrypoint, "true"], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    users = {u["name"]: u["password"] for u in json.loads(filled.read_text())["users"]}
    for name, uri in made.items():
        if name.startswith("amqp-"):
            user, password = uri.removeprefix("amqp://").split("@")[0].split(":")
            assert users[user] == password
    (tmp_path / "secrets" / "amqp-welfare").unlink()
    done = subprocess.run([entrypoint, "true"], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode != 0 and "palace-welfare" in done.stderr


def compose_secrets_in(directory):
    from ops import compose_secrets

    compose_secrets.main([str(directory)])
    return {path.name: path.read_text().strip() for path in directory.iterdir()}
