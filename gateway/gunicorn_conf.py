"""gunicorn settings for the gateway; the same command runs under `make run` and compose."""
import os
import shutil
import tempfile

from services.common import logs, trust
from services.common.config import (  # not `config`: gunicorn reads that name as a setting
    check_connection_secrets,
    env,
    gateway_workers,
)

bind = f"{env('PALACE_HTTP_HOST')}:{env('PALACE_HTTP_PORT')}"
worker_class = "gthread"  # gunicorn has no eventlet worker any more; the threads share one RPC client
workers = gateway_workers()
threads = int(env("PALACE_GATEWAY_THREADS"))
wsgi_app = "gateway.app:create_app()"
timeout = 30
graceful_timeout = 10
keepalive = 75  # longer than clients idle between taps, shorter than a proxy's upstream keepalive
loglevel = env("PALACE_LOG_LEVEL").lower()
logconfig_dict = logs.config(loglevel.upper(), env("PALACE_LOG_FORMAT"))
# several gateways may run on one machine (make run, the tests): no shared control socket path
control_socket_disable = True

# each worker process writes its metrics into this directory; /metrics adds them up
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="palace-gateway-metrics-")


def on_starting(server):
    """Without its keys the gateway could sign no call and seal no reset code, and with a placeholder
    or short secret anyone could: stop, saying why."""
    trust.key()
    trust.code_key()
    if env("PALACE_TOKEN_SECRET"):
        from gateway.auth import checked_token_secret

        checked_token_secret(env("PALACE_TOKEN_SECRET"))
    check_connection_secrets()


def on_exit(server):
    if os.environ["PROMETHEUS_MULTIPROC_DIR"].startswith(tempfile.gettempdir()):
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
