"""A setting given as a file (NAME_FILE, docker secrets) reaches nameko too: a service started with
only AMQP_URI_FILE talks to the broker the file names, not to nameko's guest@localhost default."""
from urllib.parse import urlsplit, urlunsplit

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


def test_a_service_or_gateway_with_a_placeholder_or_missing_signing_key_stops_saying_why(stack):
    """Without PALACE_CONTEXT_KEY a part could believe no call: it does not start (compose refuses
    to start without one, .env.example's placeholder included)."""
    for name, key in (("venues", "change-me"), ("notify", None), ("gateway", "short")):
        proc = stack.start(name, extra_env={"PALACE_CONTEXT_KEY": key}, wait=False)
        try:
            assert proc.wait(timeout=60) != 0, name
        finally:
            stack.stop(name)
        assert "PALACE_CONTEXT_KEY must hold at least 32 random characters" in stack.log(name), stack.log(name)


def test_a_part_given_a_placeholder_or_short_secret_exits_saying_which(stack):
    """Compose's parts run outside development: .env.example's placeholders, a short secret or a
    missing welfare key stop the part at its start, with the setting named in its log."""
    # welfare outside development with a broker password that passes: its missing key is what stops it
    broker = urlsplit(stack.env["AMQP_URI"])
    long_password = urlunsplit(broker._replace(netloc=f"{broker.username}:a-long-enough-password@{broker.hostname}"
                                                      f":{broker.port or 5672}"))
    cases = (
        ("welfare", {"PALACE_DEVELOPMENT": "0", "PALACE_WELFARE_KEYS": None, "AMQP_URI": long_password},
         "PALACE_WELFARE_KEYS is not set"),
        ("welfare", {"PALACE_WELFARE_KEYS": "1:change-me"}, "PALACE_WELFARE_KEYS key '1' must hold at least 44"),
        ("gateway", {"PALACE_TOKEN_SECRET": "change-me-to-a-long-random-string"},
         "PALACE_TOKEN_SECRET must hold at least 32 random characters"),
        ("notify", {"PALACE_RESET_CODE_KEY": "change-me"}, "PALACE_RESET_CODE_KEY must hold at least 44"),
        ("venues", {"PALACE_DEVELOPMENT": "0"}, "the password in AMQP_URI must hold at least 16"),
    )
    for name, extra, message in cases:
        proc = stack.start(name, extra_env=extra, wait=False)
        try:
            assert proc.wait(timeout=60) != 0, name
        finally:
            stack.stop(name)
        assert message in stack.log(name), stack.log(name)
