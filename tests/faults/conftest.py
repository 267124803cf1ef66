"""The fault suite (`make test-faults`): real processes on this machine, broken on purpose.
Each test prints its figures in one line starting with FAULT, which the README's table quotes."""
import json
import secrets

import pytest


@pytest.fixture(scope="module")
def stack(stack):
    stack.env["PALACE_TOKEN_SECRET"] = secrets.token_urlsafe(32)
    return stack


def figures(name, **values):
    print(f"\nFAULT {name} " + json.dumps(values, ensure_ascii=False), flush=True)
