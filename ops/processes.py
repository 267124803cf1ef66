"""The processes of a running palace: one table for `make run`, the compose file and the tests."""
from services.common.config import SERVICES

# eventlet needs psycopg to wait with select(), or one query blocks every worker of the service
SERVICE_ENV = {"PSYCOPG_WAIT_FUNC": "wait_selector"}

MIGRATE = ["python", "-m", "ops.migrate"]


def service_command(service):
    return ["nameko", "run", "--config", "config.yaml", f"services.{service}.service"]


GATEWAY = ["gunicorn", "--config", "python:gateway.gunicorn_conf"]
GATEWAY_FEED = ["nameko", "run", "--config", "config.yaml", "gateway.feed"]


def commands():
    """name -> (argv, extra environment), in start order."""
    table = {service: (service_command(service), SERVICE_ENV) for service in SERVICES}
    table["gateway-feed"] = (GATEWAY_FEED, SERVICE_ENV)
    table["gateway"] = (GATEWAY, {})
    return table
