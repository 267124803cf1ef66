"""What the integration modules share beyond tests/conftest.py."""
import secrets

import psycopg
import pytest

from services.common import config


@pytest.fixture
def scratch():
    """An empty database of its own (for a migration test to migrate step by step), dropped afterwards."""
    name = f"palace_m{secrets.token_hex(4)}"
    with psycopg.connect(f"{config.pg_server()}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{config.pg_server()}/{name}"
    finally:
        with psycopg.connect(f"{config.pg_server()}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
