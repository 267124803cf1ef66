"""marshmallow fields for what PostgreSQL can store: text without NUL or lone surrogates, and
aware timestamps inside the range timestamptz round-trips (no BC dates, no year 10000); and the
one phone number format every part takes."""
import re
from datetime import datetime, timezone

from marshmallow import ValidationError, fields, validate

EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9999, 12, 30, tzinfo=timezone.utc)


def storable(value):
    if "\x00" in value:
        raise ValidationError("must not contain the NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("must be valid Unicode text (no lone surrogates)") from None


class Text(fields.String):
    def __init__(self, *args, validate=None, **kwargs):
        checks = [storable, *(validate if isinstance(validate, (list, tuple)) else [validate] if validate else [])]
        super().__init__(*args, validate=checks, **kwargs)


# A mainland mobile number: 11 ASCII digits from 13x to 19x. Matched whole (fullmatch): `$` would let
# a trailing line break through, and \d full-width digits.
MOBILE = re.compile(r"1[3-9][0-9]{9}")
MOBILE_PROBLEM = "must be an 11-digit mainland mobile number"


def mobile(value):
    if not MOBILE.fullmatch(value):
        raise ValidationError(MOBILE_PROBLEM)


class Phone(Text):
    """A member's phone: what they sign in with and what SMS reaches."""

    def __init__(self, *args, **kwargs):
        metadata = {"pattern": f"^{MOBILE.pattern}$", "example": "13900000001", **kwargs.pop("metadata", {})}
        super().__init__(*args, validate=mobile, metadata=metadata, **kwargs)


class Moment(fields.AwareDateTime):
    """A point in time with its zone (a time without one is refused, not guessed)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, validate=validate.Range(min=EARLIEST, max=LATEST,
                                                        error="must be between 1970 and 9999"), **kwargs)
