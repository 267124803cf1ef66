import os

import pytest



@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """An isolated palace (databases and vhost) for one test module; processes are started by the tests."""
    from tests.harness import Stack

    stack = Stack(tmp_path_factory.mktemp("logs"))
    stack.create()
    saved = {k: os.environ.get(k) for k in ("AMQP_URI", "PALACE_DB_PREFIX")}
    os.environ.update(AMQP_URI=stack.env["AMQP_URI"], PALACE_DB_PREFIX=stack.tag)
    try:
        yield stack
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        stack.destroy()
