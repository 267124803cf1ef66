"""Who may call: one guard, Caller.require, for the gateway's routes and every service."""
import pytest

from services.common.context import Caller
from services.common.errors import Forbidden, Unauthorized
from services.common.roles import ADMIN, CLASS_STAFF, MEMBER, OFFICERS, TEACHER


def caller(*roles, id="6f1c1a4e-8d0e-4c39-9b0e-1d2f3a4b5c6d"):
    return Caller(id=id, roles=frozenset(roles), unit=None, request_id=None, idempotency_key=None)


def test_a_signed_in_caller_passes_and_is_named():
    assert caller(MEMBER).require() == "6f1c1a4e-8d0e-4c39-9b0e-1d2f3a4b5c6d"
    assert caller(TEACHER).require(*CLASS_STAFF) == "6f1c1a4e-8d0e-4c39-9b0e-1d2f3a4b5c6d"


def test_no_one_signed_in_is_unauthorized_even_holding_roles():
    with pytest.raises(Unauthorized) as refused:
        caller(ADMIN, id=None).require()
    assert (refused.value.status, refused.value.problem) == (401, "unauthenticated")


def test_a_caller_without_one_of_the_roles_is_forbidden_and_told_which():
    with pytest.raises(Forbidden) as refused:
        caller(MEMBER, TEACHER).require(*OFFICERS)
    assert (refused.value.status, refused.value.problem) == (403, "forbidden")
    assert "welfare_officer, admin" in refused.value.detail
