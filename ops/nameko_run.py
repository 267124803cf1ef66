"""Runs palace's nameko services: `python -m ops.nameko_run services.enrolment.service [...]`.

`nameko run --config config.yaml` took nameko's settings from the YAML's interpolation of the
environment, so a setting given as a file (`AMQP_URI_FILE`, a docker secret) never reached
nameko while palace's own code read it: the service's RPC went to guest@localhost. Here nameko's
config dict is built in Python by `nameko_config()` from services.common.config, which every part
reads, and the rest is nameko's own runner (signals, graceful stop) as its CLI ran it.
Every nameko process of the table in ops/processes.py (compose included) starts here."""
import logging.config
import sys

from services.common import config, logs


def nameko_config():
    """nameko's settings, from the environment or NAME_FILE files like every other setting."""
    return {
        "AMQP_URI": config.amqp_uri(),
        "max_workers": int(config.env("PALACE_MAX_WORKERS", "20")),
        "serializer": "json",
        "LOGGING": logs.config(config.env("PALACE_LOG_LEVEL", "INFO").upper(),
                               config.env("PALACE_LOG_FORMAT", "json")),
    }


def main(modules):
    if not modules:
        print("usage: python -m ops.nameko_run MODULE[:Class] ...", file=sys.stderr)
        return 2
    import eventlet

    eventlet.monkey_patch()  # before nameko and the services load, as nameko's own CLI does
    from nameko.cli.run import import_service, run

    settings = nameko_config()
    logging.config.dictConfig(settings["LOGGING"])
    services = [service for module in modules for service in import_service(module)]
    run(services, settings)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
