"""docker-compose.yml runs what `make run` runs: same processes, same commands, same settings."""
from pathlib import Path

import yaml

from ops import processes

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
        assert {"AMQP_URI", "PALACE_PG", "PALACE_DB_PREFIX"} <= set(env), name


def test_no_secret_is_committed():
    text = (ROOT / "docker-compose.yml").read_text()
    assert "change-me" not in text and "guest" not in text
    assert ".env" in (ROOT / ".gitignore").read_text().split()


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
