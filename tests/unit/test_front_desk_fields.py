"""What the front desk may keep of a national ID: its last 4 characters, never more."""
import pytest
from marshmallow import ValidationError

from gateway.schemas import RegisterSchema, WalkInSchema


def test_the_last_4_of_an_id_are_kept_with_an_upper_case_x():
    walk_in = WalkInSchema().load({"phone": "13912345678", "name": "Sun Hua", "id_last4": "002x"})
    assert walk_in["id_last4"] == "002X"
    assert "id_last4" not in WalkInSchema().load({"phone": "13912345678", "name": "Sun Hua"})


@pytest.mark.parametrize("given", ["11010519491231002X", "1002X", "02X", "0X2X", "００２X", "002X\n", ""])
def test_anything_but_4_last_characters_is_refused_by_name(given):
    with pytest.raises(ValidationError) as refused:
        WalkInSchema().load({"phone": "13912345678", "name": "Sun Hua", "id_last4": given})
    assert list(refused.value.messages) == ["id_last4"]


def test_a_whole_id_under_another_name_is_refused_too():
    with pytest.raises(ValidationError) as refused:
        RegisterSchema().load({"phone": "13912345678", "name": "Sun Hua", "password": "long-enough",
                               "national_id": "11010519491231002X"})
    assert list(refused.value.messages) == ["national_id"]
