"""The gateway's Prometheus metrics. gunicorn runs several worker processes, so each writes its
figures to files in PROMETHEUS_MULTIPROC_DIR (set in gunicorn_conf) and /metrics adds them up."""
import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest, multiprocess

from gateway import internal

REQUESTS = Histogram("palace_http_request_seconds", "HTTP requests through the gateway, by route and status",
                     ["method", "route", "status"],
                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
RPC = Histogram("palace_rpc_seconds", "RPC calls from the gateway to a service, by outcome",
                ["service", "method", "outcome"],
                buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))


class Timing:
    """Middleware: time every request, labelled by its route template (not its ids)."""

    def process_request(self, req, resp):
        req.context.started = time.perf_counter()

    def process_response(self, req, resp, resource, req_succeeded):
        started = getattr(req.context, "started", None)
        if started is not None:
            REQUESTS.labels(req.method, req.uri_template or "unmatched", str(resp.status_code)).observe(
                time.perf_counter() - started)


class Metrics:
    """For ops alone (gateway/internal.py): a stranger finds no /metrics."""

    def __init__(self, token):
        self.token = token

    def on_get(self, req, resp):
        internal.only_ops(req, self.token)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        resp.content_type, resp.data = CONTENT_TYPE_LATEST, generate_latest(registry)
