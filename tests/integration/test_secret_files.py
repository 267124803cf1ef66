"""A setting given as a file (NAME_FILE, docker secrets) reaches nameko too: a service started with
only AMQP_URI_FILE talks to the broker the file names, not to nameko's guest@localhost default."""
from ops import processes


def test_a_service_given_only_AMQP_URI_FILE_answers_on_the_broker_the_file_names(stack, tmp_path):
    secret = tmp_path / "amqp_uri"
    secret.write_text(stack.env["AMQP_URI"] + "\n")  # the test's own vhost: the default has no venues
    argv, env = processes.commands()["venues"]
    stack.start("venues", argv, {**env, "AMQP_URI": None, "AMQP_URI_FILE": str(secret)})
    try:
        with stack.rpc(timeout=10) as rpc:
            assert rpc.venues.ping()["database"] == "ok"
    finally:
        stack.stop("venues")
