"""Every log line of a service names the request it serves: the gateway's request id arrives in
the RPC context or in an event's headers, and is kept for the worker's green thread."""
import contextvars
import logging

request_id = contextvars.ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (configured on the log handler by config())."""

    def filter(self, record):
        record.request_id = request_id.get()
        return True


def config(level="INFO", fmt="json"):
    """The logging dictConfig of every process: nameko's (ops/nameko_run.py) and gunicorn's."""
    formatters = {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "pythonjsonlogger.json.JsonFormatter",
                 "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
                 "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}},
    }
    return {
        "version": 1, "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": formatters,
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": fmt, "filters": ["request_id"]}},
        "root": {"level": level, "handlers": ["console"]},
        "loggers": {name: {"level": level, "handlers": ["console"], "propagate": False}
                    for name in ("gunicorn.error", "gunicorn.access")},
    }


def enter(worker_ctx):
    """Called as a worker starts: each green thread has its own context, so workers do not mix."""
    request_id.set(worker_ctx.data.get("request_id") or "-")
