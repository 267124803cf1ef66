"""Settings come from the environment, or from a file named by NAME_FILE (docker secrets)."""
from services.common import config


def test_a_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("PALACE_TOKEN_SECRET", "from-env")
    assert config.env("PALACE_TOKEN_SECRET") == "from-env"


def test_a_secret_is_read_from_the_file_its_FILE_variable_names(monkeypatch, tmp_path):
    secret = tmp_path / "token_secret"
    secret.write_text("from-a-file\n")
    monkeypatch.delenv("PALACE_TOKEN_SECRET", raising=False)
    monkeypatch.setenv("PALACE_TOKEN_SECRET_FILE", str(secret))
    assert config.env("PALACE_TOKEN_SECRET") == "from-a-file"


def test_an_unset_setting_takes_its_default(monkeypatch):
    monkeypatch.delenv("PALACE_RPC_TIMEOUT", raising=False)
    monkeypatch.delenv("PALACE_RPC_TIMEOUT_FILE", raising=False)
    assert config.rpc_timeout() == 5.0


def test_nameko_takes_its_broker_from_the_file_AMQP_URI_FILE_names(monkeypatch, tmp_path):
    from ops.processes import nameko_config

    secret = tmp_path / "amqp_uri"
    secret.write_text("amqp://palace:s3cret@broker.internal:5672/palace\n")
    monkeypatch.delenv("AMQP_URI", raising=False)
    monkeypatch.setenv("AMQP_URI_FILE", str(secret))
    settings = nameko_config()
    assert settings["AMQP_URI"] == "amqp://palace:s3cret@broker.internal:5672/palace"
    assert settings["serializer"] == "json" and settings["LOGGING"]["root"]["handlers"] == ["console"]
