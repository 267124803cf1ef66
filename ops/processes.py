"""The processes of a running palace: one table for `make run`, the compose file and the tests."""
from services.common import config, logs
from services.common.config import SERVICES

# eventlet needs psycopg to wait with select(), or one query blocks every worker of the service
SERVICE_ENV = {"PSYCOPG_WAIT_FUNC": "wait_selector"}

MIGRATE = ["python", "-m", "ops.migrate"]


def nameko_command(module):
    """A nameko process: its settings built in Python (ops/nameko_run.py), so NAME_FILE works."""
    return ["python", "-m", "ops.nameko_run", module]


def service_command(service):
    return nameko_command(f"services.{service}.service")


GATEWAY = ["gunicorn", "--config", "python:gateway.gunicorn_conf"]
GATEWAY_FEED = nameko_command("gateway.feed")


def commands():
    """name -> (argv, extra environment), in start order."""
    table = {service: (service_command(service), SERVICE_ENV) for service in SERVICES}
    table["gateway-feed"] = (GATEWAY_FEED, SERVICE_ENV)
    table["gateway"] = (GATEWAY, {})
    return table


def nameko_config():
    """nameko's settings, read through the settings registry (environment or NAME_FILE files, else the
    registered default) like every other part's."""
    return {
        "AMQP_URI": config.amqp_uri(),
        "max_workers": int(config.env("PALACE_MAX_WORKERS")),
        "serializer": "json",
        "LOGGING": logs.config(config.env("PALACE_LOG_LEVEL").upper(),
                               config.env("PALACE_LOG_FORMAT")),
    }
