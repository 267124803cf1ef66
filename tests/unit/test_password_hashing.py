"""Test stacks hash with argon2's cheapest profile; production with its default. Each verifies the
other's hashes (the parameters travel in the hash), and a misspelt choice stops the gateway."""
import pytest

from gateway.auth import password_hasher


def test_either_choice_verifies_the_other_s_hashes():
    standard, cheapest = password_hasher("standard"), password_hasher("cheapest")
    assert cheapest.verify(standard.hash("a member's password"), "a member's password")
    assert standard.verify(cheapest.hash("a member's password"), "a member's password")
    assert "m=65536" in standard.hash("x") and "m=65536" not in cheapest.hash("x")


def test_a_misspelt_choice_is_refused():
    with pytest.raises(ValueError, match="standard or cheapest"):
        password_hasher("cheap")
