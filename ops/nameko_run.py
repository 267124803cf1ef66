"""Runs palace's nameko services: `python -m ops.nameko_run services.enrolment.service [...]`.

`nameko run --config config.yaml` took nameko's settings from the YAML's interpolation of the
environment, so a setting given as a file (`AMQP_URI_FILE`, a docker secret) never reached
nameko while palace's own code read it: the service's RPC went to guest@localhost. Here nameko's
config dict is built in Python (`ops.processes.nameko_config`) from services.common.config, which
every part reads, and the rest is nameko's own runner (signals, graceful stop) as its CLI ran it.
Every nameko process of the table in ops/processes.py (compose included) starts here."""
import eventlet

# First of all, as nameko's CLI does: a module that took the real threading or socket before this
# (logging.config does) hung a service's start for seconds.
eventlet.monkey_patch()

import logging.config  # noqa: E402
import sys  # noqa: E402

from nameko.cli.run import import_service, run  # noqa: E402

from ops.processes import nameko_config  # noqa: E402
from services.common.config import check_connection_secrets  # noqa: E402


def main(modules):
    if not modules:
        print("usage: python -m ops.nameko_run MODULE[:Class] ...", file=sys.stderr)
        return 2
    settings = nameko_config()
    logging.config.dictConfig(settings["LOGGING"])
    check_connection_secrets()
    services = [service for module in modules for service in import_service(module)]
    run(services, settings)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
