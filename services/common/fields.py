"""marshmallow fields for what PostgreSQL can store: text without NUL or lone surrogates, and
aware timestamps inside the range timestamptz round-trips (no BC dates, no year 10000)."""
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


class Moment(fields.AwareDateTime):
    """A point in time with its zone (a time without one is refused, not guessed)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, validate=validate.Range(min=EARLIEST, max=LATEST,
                                                        error="must be between 1970 and 9999"), **kwargs)
