"""The venues service's RPC payloads (its events are in events.py)."""
import copy

from marshmallow import Schema, ValidationError, fields, missing, validate, validates_schema

from services.common.fields import Moment, Text
from services.common.roles import MEMBER, ROLES
from services.common.zone import HOME_ZONE_NAME
from services.venues import domain

SITE_KINDS = ("palace", "own_unit", "shared", "mobile")
FEATURE = Text(validate=validate.Length(min=1, max=50))
Name = lambda **kw: Text(validate=validate.Length(min=1, max=200), **kw)  # noqa: E731


class SpanChecked(Schema):
    """A request with starts_at and ends_at: the end comes after the start, within the limits."""

    @validates_schema
    def span(self, data, **kwargs):
        if "starts_at" in data and "ends_at" in data:
            try:
                domain.check_span(data["starts_at"], data["ends_at"])
            except domain.RuleError as exc:
                raise ValidationError(exc.errors["ends_at"], "ends_at") from None


class SiteCreateSchema(Schema):
    name = Name(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(SITE_KINDS),
                         metadata={"description": "palace, or a Workers' Home: own_unit, shared, mobile"})
    district = Text(validate=validate.Length(max=100), allow_none=True)
    address = Text(validate=validate.Length(max=500), allow_none=True)


class SiteSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    kind = fields.String()
    district = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    rooms = fields.Integer(metadata={"description": "number of rooms"})
    created_at = fields.AwareDateTime()


class RoomCreateSchema(Schema):
    site_id = fields.UUID(required=True)
    parent_id = fields.UUID(allow_none=True, metadata={
        "description": "the divisible room this is a part of (booking the whole blocks its parts and the reverse)"})
    name = Name(required=True)
    floor = fields.Integer(strict=True, validate=validate.Range(min=-10, max=200), allow_none=True)
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))
    features = fields.List(FEATURE, validate=validate.Length(max=30), load_default=list,
                           metadata={"description": "e.g. piano, mirrors, projector, sprung_floor"})
    opening_hours = fields.Dict(keys=fields.String(validate=validate.OneOf(domain.WEEKDAYS)),
                                values=fields.List(fields.String(validate=validate.Regexp(r"^\d\d:\d\d$")),
                                                   validate=validate.Length(equal=2), allow_none=True),
                                allow_none=True, metadata={
                                    "description": f"wall-clock {HOME_ZONE_NAME} hours per weekday, "
                                                   "{\"tue\": [\"08:00\", \"22:00\"]}; a weekday not named is "
                                                   "closed; null: always open"})
    bookable_by = fields.List(fields.String(validate=validate.OneOf(ROLES)), load_default=lambda: [MEMBER],
                              validate=validate.Length(max=6))
    buffer_minutes = fields.Integer(strict=True, validate=validate.Range(min=0, max=240), load_default=0,
                                    metadata={"description": "cleaning time held after each booking"})
    requires_approval = fields.Boolean(load_default=False)
    checkin_minutes = fields.Integer(strict=True, validate=validate.Range(min=1, max=240), allow_none=True,
                                     metadata={"description": "a member's booking not checked in this long "
                                                              "after its start is released"})
    max_advance_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=1000), allow_none=True,
                                      load_default=domain.ADVANCE_DAYS, metadata={
                                          "description": "how many days ahead a member may book (managers are "
                                                         f"not held to it); left out: {domain.ADVANCE_DAYS}; "
                                                         "null: no limit"})
    min_notice_minutes = fields.Integer(strict=True, validate=validate.Range(min=0, max=100_000), allow_none=True)
    max_hours_per_week = fields.Float(validate=validate.Range(min=0.25, max=168), allow_none=True,
                                      metadata={"description": "quota per member or club and week"})
    max_bookings_per_week = fields.Integer(strict=True, validate=validate.Range(min=1, max=1000), allow_none=True,
                                           load_default=domain.BOOKINGS_PER_WEEK, metadata={
                                               "description": "quota: bookings per member or club and week; left "
                                                              f"out: {domain.BOOKINGS_PER_WEEK}; null: no limit"})
    checkin_opens_minutes = fields.Integer(strict=True, validate=validate.Range(min=0, max=240),
                                           load_default=domain.CHECKIN_OPENS_MINUTES,
                                           metadata={"description": "check-in opens this long before the start"})
    no_show_limit = fields.Integer(strict=True, validate=validate.Range(min=1, max=100),
                                   load_default=domain.STRIKES_LIMIT, metadata={
                                       "description": "no-shows (in any room) within no_show_days that stop a "
                                                      "member from booking this room"})
    no_show_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=366),
                                  load_default=domain.STRIKES_WINDOW.days)

    @validates_schema
    def hours(self, data, **kwargs):
        if data.get("opening_hours"):
            try:
                domain.check_opening_hours(data["opening_hours"])
            except domain.RuleError as exc:
                raise ValidationError(exc.errors["opening_hours"], "opening_hours") from None


def _optional(field):
    field = copy.deepcopy(field)
    field.required, field.load_default = False, missing
    return field


# what a venue manager may change of a room; its site, parent and cleaning buffer stay (bookings hold them)
ROOM_SETTINGS = ("name", "floor", "capacity", "features", "opening_hours", "bookable_by", "requires_approval",
                 "checkin_minutes", "checkin_opens_minutes", "no_show_limit", "no_show_days", "max_advance_days",
                 "min_notice_minutes", "max_hours_per_week", "max_bookings_per_week")


class RoomEditSchema(Schema.from_dict({name: _optional(RoomCreateSchema._declared_fields[name])
                                       for name in ROOM_SETTINGS})):
    hours = RoomCreateSchema.hours


class RoomSchema(Schema):
    id = fields.UUID()
    site_id = fields.UUID()
    site_name = fields.String()
    site_address = fields.String(allow_none=True, metadata={"description": "where the room's site is"})
    district = fields.String(allow_none=True)
    parent_id = fields.UUID(allow_none=True)
    name = fields.String()
    floor = fields.Integer(allow_none=True)
    capacity = fields.Integer()
    features = fields.List(fields.String())
    opening_hours = fields.Dict(allow_none=True)
    bookable_by = fields.List(fields.String())
    buffer_minutes = fields.Integer()
    requires_approval = fields.Boolean()
    checkin_minutes = fields.Integer(allow_none=True)
    max_advance_days = fields.Integer(allow_none=True)
    min_notice_minutes = fields.Integer(allow_none=True)
    max_hours_per_week = fields.Float(allow_none=True)
    max_bookings_per_week = fields.Integer(allow_none=True)
    checkin_opens_minutes = fields.Integer()
    no_show_limit = fields.Integer()
    no_show_days = fields.Integer()
    created_at = fields.AwareDateTime()


class SeriesExceptionSchema(Schema):
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    reason = Text(validate=validate.Length(max=200), load_default="")


class RecurrenceSchema(Schema):
    every_weeks = fields.Integer(strict=True, validate=validate.Range(min=1, max=52), load_default=1)
    weekdays = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=7)),
                           validate=validate.Length(max=7), load_default=list,
                           metadata={"description": "1 = Monday ... 7 = Sunday; default: the first one's weekday"})
    until = fields.Date(metadata={"description": f"last day ({HOME_ZONE_NAME}), inclusive"})
    count = fields.Integer(strict=True, validate=validate.Range(min=1, max=1_000_000),
                           metadata={"description": f"number of dates the rule names (at most "
                                                    f"{domain.MAX_OCCURRENCES} occurrences)"})
    exceptions = fields.List(fields.Nested(SeriesExceptionSchema), validate=validate.Length(max=100), load_default=list)
    on_holidays = fields.String(validate=validate.OneOf(("skip", "keep")), load_default="skip")
    makeup_days = fields.Boolean(load_default=True, metadata={
        "description": "add the make-up working days (调休) that keep a series weekday's timetable"})

    @validates_schema
    def one_end(self, data, **kwargs):
        if ("until" in data) == ("count" in data):
            raise ValidationError("give exactly one of 'until' and 'count'", "until")


class BookingCreateSchema(SpanChecked):
    room_id = fields.UUID(required=True)
    title = Name(required=True)
    starts_at = Moment(required=True)
    ends_at = Moment(required=True)
    club_id = fields.UUID(allow_none=True, metadata={
        "description": "the club booking, if its leader (or staff) books for it; quotas count per club"})
    recurrence = fields.Nested(RecurrenceSchema, allow_none=True)
    skip_conflicts = fields.Boolean(load_default=False, metadata={
        "description": "book the free occurrences of a series and report the others"})


class BookingSchema(Schema):
    id = fields.UUID()
    room_id = fields.UUID()
    room_name = fields.String()
    site_id = fields.UUID()
    series_id = fields.UUID(allow_none=True)
    occurrence = fields.Integer(allow_none=True)
    title = fields.String()
    status = fields.String(metadata={"description": "pending, confirmed, checked_in, rejected, cancelled, released"})
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    holder_service = fields.String()
    holder_reference = fields.String()
    member_id = fields.UUID(allow_none=True)
    club_id = fields.UUID(allow_none=True)
    club = fields.String(allow_none=True, metadata={"description": "the club's name"})
    reason = fields.String(allow_none=True)
    checked_in_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()


class SkippedSchema(Schema):
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    reason = fields.String()


class BookingResultSchema(BookingSchema):
    """The first booking made, and for a series every booking and every skipped occurrence."""
    bookings = fields.List(fields.Nested(BookingSchema))
    skipped = fields.List(fields.Nested(SkippedSchema))


class ActionSchema(Schema):
    reason = Text(validate=validate.Length(max=500), allow_none=True)
    scope = fields.String(validate=validate.OneOf(("one", "following", "series")), load_default="one",
                          metadata={"description": "cancel: this occurrence, this and the following ones, "
                                                   "or the whole series"})


class ActionResultSchema(BookingSchema):
    affected = fields.Integer(metadata={"description": "bookings changed (more than one for a series scope)"})


class BookingEditSchema(Schema):
    title = Name()
    starts_at = Moment()
    ends_at = Moment()
    scope = fields.String(validate=validate.OneOf(("one", "following", "series")), load_default="one",
                          metadata={"description": "a new time moves the other occurrences by the same shift"})

    @validates_schema
    def span(self, data, **kwargs):
        if ("starts_at" in data) != ("ends_at" in data):
            raise ValidationError("give starts_at and ends_at together", "ends_at")
        if "starts_at" in data:
            try:
                domain.check_span(data["starts_at"], data["ends_at"])
            except domain.RuleError as exc:
                raise ValidationError(exc.errors["ends_at"], "ends_at") from None


class AvailabilityQuerySchema(SpanChecked):
    starts_at = Moment(required=True)
    ends_at = Moment(required=True)
    capacity = fields.Integer(validate=validate.Range(min=1, max=100_000), load_default=1)
    features = fields.List(FEATURE, load_default=list)
    district = Text(validate=validate.Length(max=100))
    site_id = fields.UUID()
    weeks = fields.Integer(validate=validate.Range(min=1, max=52), load_default=1,
                           metadata={"description": "free at this time this many weeks running"})
    limit = fields.Integer(validate=validate.Range(min=1, max=200), load_default=50)
    offset = fields.Integer(validate=validate.Range(min=0, max=1_000_000), load_default=0)


class ClosureCreateSchema(Schema):
    site_id = fields.UUID()
    room_id = fields.UUID()
    starts_at = Moment(required=True)
    ends_at = Moment(required=True)
    reason = Text(required=True, validate=validate.Length(min=1, max=500))

    @validates_schema
    def target(self, data, **kwargs):
        if ("site_id" in data) == ("room_id" in data):
            raise ValidationError("give exactly one of site_id and room_id", "room_id")
        if "starts_at" in data and "ends_at" in data and data["ends_at"] <= data["starts_at"]:
            raise ValidationError("must be after starts_at", "ends_at")


class ClosureEditSchema(Schema):
    """What may change of a closure: its period and its reason (its room or site stays)."""
    starts_at = Moment()
    ends_at = Moment()
    reason = Text(validate=validate.Length(min=1, max=500))

    @validates_schema
    def span(self, data, **kwargs):
        if "starts_at" in data and "ends_at" in data and data["ends_at"] <= data["starts_at"]:
            raise ValidationError("must be after starts_at", "ends_at")


class ClosureSchema(Schema):
    id = fields.UUID()
    site_id = fields.UUID()
    room_id = fields.UUID(allow_none=True)
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    reason = fields.String()
    cancelled = fields.Integer(metadata={"description": "bookings cancelled by the closure (given when it is made)"})


class ClosureFilterSchema(Schema):
    """Which closures to list: those of a site, or those closing a room (its site's whole-site ones too);
    neither: every site's."""
    site_id = fields.UUID()
    room_id = fields.UUID()
    starts_from = Moment(metadata={"description": "closures reaching past this time"})
    starts_before = Moment(metadata={"description": "closures starting before this time"})

    @validates_schema
    def target(self, data, **kwargs):
        if "site_id" in data and "room_id" in data:
            raise ValidationError("give site_id or room_id, not both", "room_id")


class CalendarDaySchema(Schema):
    day = fields.Date(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("holiday", "workday")))
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    as_weekday = fields.Integer(strict=True, validate=validate.Range(min=1, max=7), allow_none=True)

    @validates_schema
    def weekday(self, data, **kwargs):
        if (data.get("kind") == "workday") != (data.get("as_weekday") is not None):
            raise ValidationError("a make-up working day (and only one) names as_weekday", "as_weekday")


class OccurrenceSchema(Schema):
    starts_at = Moment(required=True)
    ends_at = Moment(required=True)


class ReserveSchema(Schema):
    """reserve_series(holder, room_id, occurrences, title), as one object."""
    room_id = fields.UUID(required=True)
    title = Name(required=True)
    occurrences = fields.List(fields.Nested(OccurrenceSchema), required=True,
                              validate=validate.Length(min=1, max=domain.MAX_OCCURRENCES))


class BookingFilterSchema(Schema):
    room_id = fields.UUID()
    site_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(domain.LIVE + ("rejected", "cancelled", "released")))
    series_id = fields.UUID()
    starts_from = Moment()
    starts_before = Moment()


class UtilisationSchema(Schema):
    room_id = fields.UUID()
    room_name = fields.String()
    site_id = fields.UUID()
    site_name = fields.String()
    booked_hours = fields.Float(metadata={"description": "hours booked (confirmed or checked in) in the period"})
    bookings = fields.Integer()
    no_shows = fields.Integer()
    open_hours = fields.Float(metadata={"description": "hours the room stood open in the period: its opening "
                                                       "hours per weekday (all day if none are set), less closures"})
    share = fields.Float(allow_none=True, metadata={"description": "booked hours over open hours; null if the room "
                                                                   "never opened in the period"})


class CalendarFeedSchema(Schema):
    active = fields.Boolean(metadata={"description": "the member has a live feed address"})
    token = fields.String(allow_none=True, metadata={
        "description": "the secret in the address; only given when a new address is made (only its hash is kept)"})
    url = fields.String(allow_none=True, metadata={
        "description": "subscribe to this from a calendar app; only given when a new address is made"})
    created_at = fields.AwareDateTime(allow_none=True)


class ClubCreateSchema(Schema):
    name = Name(required=True)
    leader_id = fields.UUID(required=True, metadata={"description": "the member who books for the club"})
    site_id = fields.UUID(allow_none=True, metadata={"description": "the Workers' Home it belongs to, if any"})


class ClubEditSchema(Schema):
    name = Name()
    leader_id = fields.UUID()
    site_id = fields.UUID(allow_none=True)


class ClubSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    leader_id = fields.UUID()
    site_id = fields.UUID(allow_none=True)
    site_name = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
