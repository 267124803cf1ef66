"""Every log line of a service names the request it serves: the gateway's request id arrives in
the RPC context or in an event's headers, and is kept for the worker's green thread."""
import contextvars
import logging

request_id = contextvars.ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (configured on the log handler in config.yaml)."""

    def filter(self, record):
        record.request_id = request_id.get()
        return True


def enter(worker_ctx):
    """Called as a worker starts: each green thread has its own context, so workers do not mix."""
    request_id.set(worker_ctx.data.get("request_id") or "-")
