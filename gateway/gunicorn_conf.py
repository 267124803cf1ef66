"""gunicorn settings for the gateway; the same command runs under `make run` and compose."""
import os

from services.common import logs

bind = f"{os.environ.get('PALACE_HTTP_HOST', '127.0.0.1')}:{os.environ.get('PALACE_HTTP_PORT', '8000')}"
worker_class = "gthread"  # gunicorn has no eventlet worker any more; each thread keeps its own RPC proxy
workers = int(os.environ.get("PALACE_GATEWAY_WORKERS", "2"))
threads = int(os.environ.get("PALACE_GATEWAY_THREADS", "16"))
wsgi_app = "gateway.app:create_app()"
timeout = 30
graceful_timeout = 10
keepalive = 5
loglevel = os.environ.get("PALACE_LOG_LEVEL", "info").lower()
logconfig_dict = logs.config(loglevel.upper(), os.environ.get("PALACE_LOG_FORMAT", "json"))
# several gateways may run on one machine (make run, the tests): no shared control socket path
control_socket_disable = True
