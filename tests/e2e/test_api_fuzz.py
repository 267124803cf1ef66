"""schemathesis against the running palace: generated requests for every operation of the API
document, signed in as an admin, must never meet a server error nor an answer that breaks the
document (status, content type, body schema)."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway import openapi
from gateway.app import route_table
from tests.e2e.conftest import sign_in
from tests.harness import ADMIN_PASSWORD, ADMIN_PHONE

schemathesis.serializer.alias("application/pdf", "application/octet-stream")  # case documents: raw bytes
schema = schemathesis.openapi.from_dict(openapi.build(route_table(None)))  # routes alone, no stack
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 8  # per operation: enough to walk every field's edges, bounded for `make test`
OWN_PALACE = True  # what it makes up (courses in any year, odd names) would show in other modules' lists


@pytest.fixture(scope="module")
def admin_token(palace):
    return sign_in(palace.url, ADMIN_PHONE, ADMIN_PASSWORD).http.headers["Authorization"]


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_promises(case, palace, admin_token):
    case.call_and_validate(base_url=palace.url, headers={"Authorization": admin_token}, checks=CHECKS)
