"""Venues: sites, rooms, clubs, availability, bookings and their decisions, closures, the holiday
calendar and iCal feeds, answered by the venues service over RPC."""
import re
import uuid
from datetime import datetime, timedelta

import falcon

from gateway import auth, store
from gateway.idempotency import run_once
from gateway.openapi import operation
from gateway.problems import Problem, invalid
from gateway.routes import PAGING, Resource, listed, paging, read_body
from gateway.rpc import call
from services.common.roles import MANAGERS
from services.common.zone import HOME_ZONE
from services.venues.schemas import (
    ActionResultSchema,
    ActionSchema,
    BookingCreateSchema,
    BookingEditSchema,
    BookingResultSchema,
    BookingSchema,
    CalendarDaySchema,
    CalendarFeedSchema,
    ClosureCreateSchema,
    ClosureEditSchema,
    ClosureSchema,
    ClubCreateSchema,
    ClubEditSchema,
    ClubSchema,
    RoomCreateSchema,
    RoomEditSchema,
    RoomSchema,
    SiteCreateSchema,
    SiteSchema,
    UtilisationSchema,
)

TAG = "rooms"
# a '+' in a query string arrives as a space: give an ISO time its offset sign back
_SPACED_OFFSET = re.compile(r"^(\d{4}-\d\d-\d\dT[\d:.]+) (\d\d:?\d\d)$")


def _param(req, name):
    value = req.get_param(name)
    if value is not None and name in ("starts_at", "ends_at", "from", "before"):
        value = _SPACED_OFFSET.sub(r"\1+\2", value)
    return value


def _optional_body(req):
    try:
        media = req.get_media(default_when_empty=None)
    except falcon.MediaMalformedError as exc:
        raise Problem(400, "malformed-json", f"the body is not valid JSON: {exc.description}") from None
    if media is None:
        return {}
    if not isinstance(media, dict):
        raise Problem(422, "validation-failed", "the request has invalid fields",
                      {"_schema": ["the body must be a JSON object"]})
    return media


class Sites(Resource):
    doc = {
        "post": operation("Create a site: the palace or a Workers' Home", operation_id="createSite", tag=TAG,
                          body=SiteCreateSchema, response=SiteSchema, status=201, roles=MANAGERS, idempotent=True),
        "get": operation("List sites", operation_id="listSites", tag=TAG, response=SiteSchema, many=True, auth=False,
                         query=(*PAGING, ("district", "string"), ("kind", "string")), errors=(400, 422)),
    }
    location = "/v1/sites"  # a site has no address of its own: the list it is in


    @auth.require(*MANAGERS)
    def on_post(self, req, resp):
        body = read_body(req)
        run_once(self.gateway, req, resp, body, lambda key: (
            201, call("venues", "create_site", body, context=auth.caller(req, key))))

    def on_get(self, req, resp):
        resp.media = listed(req, call("venues", "list_sites", **paging(req), district=req.get_param("district"),
                                      kind=req.get_param("kind"), with_total=True, context=auth.caller(req)))


class Rooms(Resource):
    doc = {
        "post": operation("Create a room (a part of a divisible room names its parent_id)", operation_id="createRoom",
                          tag=TAG, body=RoomCreateSchema, response=RoomSchema, status=201, roles=MANAGERS,
                          idempotent=True, errors=(400, 409, 422)),
        "get": operation("List rooms", operation_id="listRooms", tag=TAG, response=RoomSchema, many=True, auth=False,
                         query=(*PAGING, ("site_id", "string"), ("district", "string"), ("feature", "string"),
                                ("min_capacity", "integer")),
                         errors=(400, 404, 422)),
    }
    location = "/v1/rooms/{id}"


    @auth.require(*MANAGERS)
    def on_post(self, req, resp):
        body = read_body(req)
        run_once(self.gateway, req, resp, body, lambda key: (
            201, call("venues", "create_room", body, context=auth.caller(req, key))))

    def on_get(self, req, resp):
        resp.media = listed(req, call("venues", "list_rooms", **paging(req), site_id=req.get_param("site_id"),
                                      district=req.get_param("district"), feature=req.get_param("feature"),
                                      min_capacity=req.get_param_as_int("min_capacity", min_value=1, max_value=100_000),
                                      with_total=True, context=auth.caller(req)))


def _known_leader(gateway, body):
    """A club's leader is a member with an account here (the venues service cannot tell)."""
    leader = body.get("leader_id")
    try:
        leader = uuid.UUID(leader) if isinstance(leader, str) else None
    except ValueError:
        return  # the service names the malformed field
    if leader is None:
        return
    with gateway.db.transaction() as conn:
        if not store.is_open_account(conn, leader):
            raise invalid({"leader_id": ["is not a known account"]})


class Clubs(Resource):
    doc = {
        "post": operation("Set up a club (the choir, a dance troupe...) with the member who leads it and books "
                          "for it", operation_id="createClub", tag=TAG, body=ClubCreateSchema, response=ClubSchema,
                          status=201, roles=MANAGERS, idempotent=True, errors=(400, 409, 422)),
        "get": operation("List clubs", operation_id="listClubs", tag=TAG, response=ClubSchema, many=True,
                         errors=(400, 404, 422), query=(*PAGING, ("site_id", "string"), ("leader_id", "string"))),
    }
    location = "/v1/clubs/{id}"

    @auth.require(*MANAGERS)
    def on_post(self, req, resp):
        body = read_body(req)
        _known_leader(self.gateway, body)
        run_once(self.gateway, req, resp, body, lambda key: (
            201, call("venues", "create_club", body, context=auth.caller(req, key))))

    @auth.require()
    def on_get(self, req, resp):
        resp.media = listed(req, call("venues", "list_clubs", **paging(req), site_id=req.get_param("site_id"),
                                      leader_id=req.get_param("leader_id"), with_total=True, context=auth.caller(req)))


class Club(Resource):
    doc = {"patch": operation("Rename a club, or hand it to a new leader or site", operation_id="updateClub", tag=TAG,
                              body=ClubEditSchema, response=ClubSchema, roles=MANAGERS, errors=(400, 404, 409, 422))}

    @auth.require(*MANAGERS)
    def on_patch(self, req, resp, club_id):
        body = read_body(req)
        _known_leader(self.gateway, body)
        resp.media = call("venues", "edit_club", club_id, body, context=auth.caller(req))


class Room(Resource):
    doc = {
        "get": operation("One room", operation_id="getRoom", tag=TAG, response=RoomSchema, auth=False, errors=(404,)),
        "patch": operation("Change a room's settings: opening hours, check-in, no-show limits, quotas... (bookings "
                           "already made stay)", operation_id="updateRoom", tag=TAG, body=RoomEditSchema,
                           response=RoomSchema, roles=MANAGERS, errors=(400, 404, 409, 422)),
    }

    @auth.require(*MANAGERS)
    def on_patch(self, req, resp, room_id):
        resp.media = call("venues", "edit_room", room_id, read_body(req), context=auth.caller(req))

    def on_get(self, req, resp, room_id):
        resp.media = call("venues", "get_room", room_id, context=auth.caller(req))


class Availability(Resource):
    doc = {"get": operation(
        "Free rooms: capacity, features, a time (this many weeks running), at a site, in a district or anywhere",
        operation_id="findFreeRooms", tag=TAG, response=RoomSchema, many=True, auth=False, errors=(400, 422),
        query=(("starts_at", "string"), ("ends_at", "string"), ("capacity", "integer"), ("features", "string"),
               ("district", "string"), ("site_id", "string"), ("weeks", "integer"), *PAGING))}


    def on_get(self, req, resp):
        query = {name: _param(req, name) for name in ("starts_at", "ends_at", "capacity", "district", "site_id",
                                                      "weeks", "limit", "offset")}
        features = req.get_param_as_list("features") or []
        query = {k: v for k, v in query.items() if v is not None}
        query["features"] = [f for f in features if f]
        resp.media = listed(req, call("venues", "availability", query, with_total=True, context=auth.caller(req)))


class Utilisation(Resource):
    doc = {"get": operation("Utilisation per room (and site): hours booked, bookings, no-shows",
                            operation_id="getRoomUtilisation", tag=TAG, response=UtilisationSchema, many=True,
                            roles=MANAGERS, errors=(400, 404, 422),
                            query=(("site_id", "string"), ("days", "integer"), ("from", "string")))}
    doc["get"]["description"] += (" Over the last `days` days (28 unless given), or, with `from` (a date, "
                                 "YYYY-MM-DD, in China's time), the `days` days from that day on: a week's is "
                                 "from=<its Monday>&days=7.")

    @auth.require(*MANAGERS)
    def on_get(self, req, resp):
        resp.media = call("venues", "utilisation", site_id=req.get_param("site_id"),
                          days=req.get_param_as_int("days", min_value=1, max_value=366, default=28),
                          first_day=req.get_param("from"), context=auth.caller(req))


class RoomCalendar(Resource):
    doc = {"get": operation("A room's bookings as an iCalendar feed (subscribe from a calendar app)",
                            operation_id="getRoomCalendar", tag=TAG, auth=False, errors=(404,))}
    doc["get"]["responses"]["200"]["content"] = {"text/calendar": {"schema": {"type": "string"}}}


    def on_get(self, req, resp, room_id):
        resp.content_type = "text/calendar; charset=utf-8"
        resp.text = call("venues", "room_calendar", room_id, context=auth.caller(req))


class MyCalendar(Resource):
    doc = {"get": operation("My bookings as an iCalendar feed", operation_id="getMyBookingsCalendar", tag=TAG,
                            errors=())}
    doc["get"]["responses"]["200"]["content"] = {"text/calendar": {"schema": {"type": "string"}}}


    @auth.require()
    def on_get(self, req, resp):
        resp.content_type = "text/calendar; charset=utf-8"
        resp.text = call("venues", "my_calendar", context=auth.caller(req))


class MyCalendarFeed(Resource):
    doc = {
        "get": operation("Whether I have a secret calendar feed address, and since when",
                         operation_id="getMyCalendarFeed", tag=TAG, response=CalendarFeedSchema, errors=()),
        "post": operation("A new secret address of my bookings' feed, for calendar apps that cannot sign in "
                          "(shown once; the address before stops working)", operation_id="renewMyCalendarFeed", tag=TAG,
                          response=CalendarFeedSchema, status=201, errors=()),
        "delete": operation("Switch my secret feed address off: it then answers 404, as an unknown one does "
                            "(a new one may be made again later)", operation_id="switchOffMyCalendarFeed", tag=TAG,
                            status=204, errors=()),
    }
    location = "/v1/me/calendar-feed"

    @auth.require()
    def on_get(self, req, resp):
        resp.media = call("venues", "calendar_feed_status", context=auth.caller(req))

    @auth.require()
    def on_delete(self, req, resp):
        call("venues", "switch_off_calendar_feed", context=auth.caller(req))
        resp.status = 204

    @auth.require()
    def on_post(self, req, resp):
        feed = call("venues", "issue_calendar_feed", context=auth.caller(req))
        feed["url"] = f"{req.prefix}/v1/calendar-feeds/{feed['token']}/calendar.ics"
        resp.status, resp.media = 201, feed


FEED_PAST, FEED_AHEAD = timedelta(days=31), timedelta(days=366)


class CalendarFeed(Resource):
    doc = {"get": operation("A member's bookings and class sessions as an iCalendar feed, by the secret address they were given "
                            "(no sign-in: calendar apps cannot send one)", operation_id="getCalendarFeed", tag=TAG,
                            auth=False, errors=(404,))}
    doc["get"]["responses"]["200"]["content"] = {"text/calendar": {"schema": {"type": "string"}}}

    def on_get(self, req, resp, token):
        member_id = call("venues", "feed_member", token, context=auth.caller(req))
        classes = []
        if member_id:  # a member's feed: their class sessions too, from a month back to a year ahead
            now = datetime.now(HOME_ZONE)
            classes = call("enrolment", "my_sessions", (now - FEED_PAST).isoformat(), (now + FEED_AHEAD).isoformat(),
                           context=auth.as_member(req, member_id))
        resp.content_type = "text/calendar; charset=utf-8"
        resp.cache_control = ["private", "no-store"]
        resp.text = call("venues", "feed_calendar", token, classes=classes, context=auth.caller(req))


class Bookings(Resource):
    doc = {
        "post": operation("Book a room once or as a series (all of it, or with skip_conflicts the free "
                          "occurrences and a report of the rest)", operation_id="bookRoom", tag=TAG,
                          body=BookingCreateSchema, response=BookingResultSchema, status=201, idempotent=True,
                          errors=(400, 404, 409, 422)),
        "get": operation("Bookings: staff see all, anyone else their own", operation_id="listBookings", tag=TAG,
                         response=BookingSchema, many=True, errors=(400, 404, 422),
                         export=("id", "title", "status", "site_id", "room_name", "starts_at", "ends_at", "club",
                                 "member_id", "holder_service", "holder_reference", "reason", "checked_in_at",
                                 "created_at"),
                         query=(*PAGING, ("room_id", "string"), ("site_id", "string"), ("status", "string"),
                                ("series_id", "string"), ("from", "string"), ("before", "string"))),
    }
    location = "/v1/bookings/{id}"


    @auth.require()
    def on_post(self, req, resp):
        body = read_body(req)
        run_once(self.gateway, req, resp, body, lambda key: (
            201, call("venues", "create_booking", body, context=auth.caller(req, key))))

    @auth.require()
    def on_get(self, req, resp):
        resp.media = listed(req, call("venues", "list_bookings", **paging(req), room_id=req.get_param("room_id"),
                                      site_id=req.get_param("site_id"), status=req.get_param("status"),
                                      series_id=req.get_param("series_id"), starts_from=_param(req, "from"),
                                      starts_before=_param(req, "before"), with_total=True, context=auth.caller(req)))


class Booking(Resource):
    doc = {
        "get": operation("One booking (its member or staff)", operation_id="getBooking", tag=TAG,
                         response=BookingSchema, errors=(404,)),
        "patch": operation("Move or retitle one occurrence, this and the following ones, or the whole series",
                           operation_id="updateBooking", tag=TAG, body=BookingEditSchema, response=ActionResultSchema,
                           errors=(400, 404, 409, 422)),
    }


    @auth.require()
    def on_get(self, req, resp, booking_id):
        resp.media = call("venues", "get_booking", booking_id, context=auth.caller(req))

    @auth.require()
    def on_patch(self, req, resp, booking_id):
        resp.media = call("venues", "edit_booking", booking_id, read_body(req), context=auth.caller(req))


class BookingAction:
    SUMMARIES = {
        "approve": ("Approve a pending booking", "approveBooking", MANAGERS),
        "reject": ("Reject a pending booking", "rejectBooking", MANAGERS),
        "cancel": ("Cancel a booking: this occurrence, this and the following ones, or the series",
                   "cancelBooking", ()),
        "checkin": ("Check in to a booking (from 15 minutes before its start until the window closes)",
                    "checkInToBooking", ()),
    }

    def __init__(self, gateway, action):
        self.gateway, self.action = gateway, action
        summary, operation_id, roles = self.SUMMARIES[action]
        op = operation(summary, operation_id=operation_id, tag=TAG, body=ActionSchema, response=ActionResultSchema,
                       roles=roles, idempotent=True, errors=(400, 404, 409, 422))
        op["requestBody"]["required"] = False
        self.doc = {"post": op}

    @auth.require()
    def on_post(self, req, resp, booking_id):
        body = _optional_body(req)
        if self.action in ("approve", "reject"):
            req.context.account.require(*MANAGERS)
        run_once(self.gateway, req, resp, body, lambda key: (
            200, call("venues", "act", booking_id, self.action, body, context=auth.caller(req, key))))


class Closures(Resource):
    doc = {
        "post": operation("Close a room or a whole site for a period (its bookings are cancelled)",
                          operation_id="closeRoomsOrSite", tag=TAG, body=ClosureCreateSchema, response=ClosureSchema,
                          status=201, roles=MANAGERS, idempotent=True, errors=(400, 404, 422)),
        "get": operation("Closures of a site, or those closing a room (its site's whole-site ones too), or "
                         "every site's, reaching into from..before, earliest first", operation_id="listClosures", tag=TAG,
                         response=ClosureSchema, many=True, roles=MANAGERS, errors=(400, 404, 422),
                         query=(*PAGING, ("site_id", "string"), ("room_id", "string"), ("from", "string"),
                                ("before", "string"))),
    }
    location = "/v1/closures/{id}"

    @auth.require(*MANAGERS)
    def on_get(self, req, resp):
        resp.media = listed(req, call("venues", "list_closures", **paging(req), site_id=req.get_param("site_id"),
                                      room_id=req.get_param("room_id"), starts_from=_param(req, "from"),
                                      starts_before=_param(req, "before"), with_total=True, context=auth.caller(req)))


    @auth.require(*MANAGERS)
    def on_post(self, req, resp):
        body = read_body(req)
        run_once(self.gateway, req, resp, body, lambda key: (
            201, call("venues", "close", body, context=auth.caller(req, key))))


class Closure(Resource):
    doc = {
        "delete": operation("Reopen: take a closure away (the bookings it cancelled stay cancelled)",
                            operation_id="removeClosure", tag=TAG, status=204, roles=MANAGERS, errors=(404,)),
        "patch": operation("Change a closure's period or reason: the bookings it now covers are cancelled as by a "
                           "new closure ('cancelled' counts them); those it no longer covers stay cancelled",
                           operation_id="updateClosure", tag=TAG, body=ClosureEditSchema, response=ClosureSchema,
                           roles=MANAGERS, errors=(400, 404, 422)),
    }

    @auth.require(*MANAGERS)
    def on_patch(self, req, resp, closure_id):
        resp.media = call("venues", "edit_closure", closure_id, read_body(req), context=auth.caller(req))

    @auth.require(*MANAGERS)
    def on_delete(self, req, resp, closure_id):
        call("venues", "reopen", closure_id, context=auth.caller(req))
        resp.status = 204


class Calendar(Resource):
    doc = {"get": operation("Public holidays and make-up working days (调休) of a year",
                            operation_id="getHolidayCalendar", tag=TAG, response=CalendarDaySchema, many=True,
                            auth=False, errors=(404,))}


    def on_get(self, req, resp, year):
        if not re.fullmatch(r"\d{4}", year):
            raise Problem(404, "not-found", "no such year")
        resp.media = call("venues", "list_calendar", int(year), context=auth.caller(req))


class CalendarDays(Resource):
    doc = {"post": operation("Set a holiday or a make-up working day", operation_id="setCalendarDay", tag=TAG,
                             body=CalendarDaySchema, response=CalendarDaySchema, roles=MANAGERS, errors=(400, 422))}


    @auth.require(*MANAGERS)
    def on_post(self, req, resp):
        resp.media = call("venues", "set_calendar_day", read_body(req), context=auth.caller(req))


class CalendarDay(Resource):
    doc = {"delete": operation("Take a holiday or make-up working day out of the calendar (series already "
                               "booked keep their dates)", operation_id="removeCalendarDay", tag=TAG, status=204,
                               roles=MANAGERS, errors=(404,))}

    @auth.require(*MANAGERS)
    def on_delete(self, req, resp, day):
        call("venues", "delete_calendar_day", day, context=auth.caller(req))
        resp.status = 204


def _uri_limit(resources):
    """gunicorn refuses a request line over 4094 bytes itself (414, text/html) before the API sees
    it: documented on every operation here, as a long query or path can reach it."""
    for _, resource in resources:
        for op in getattr(resource, "doc", {}).values():
            op["responses"].setdefault("414", {
                "description": "URI too long: refused by the HTTP server before the API reads it",
                "content": {"text/html": {"schema": {"type": "string"}}}})
    return resources


def routes(gateway):
    return _uri_limit([
        ("/v1/sites", Sites(gateway)), ("/v1/rooms", Rooms(gateway)),
        ("/v1/rooms/availability", Availability(gateway)), ("/v1/rooms/utilisation", Utilisation(gateway)), ("/v1/rooms/{room_id}", Room(gateway)),
        ("/v1/rooms/{room_id}/calendar.ics", RoomCalendar(gateway)),
        ("/v1/bookings", Bookings(gateway)), ("/v1/bookings/calendar.ics", MyCalendar(gateway)),
        ("/v1/me/calendar-feed", MyCalendarFeed(gateway)),
        ("/v1/calendar-feeds/{token}/calendar.ics", CalendarFeed(gateway)),
        ("/v1/bookings/{booking_id}", Booking(gateway)),
        *[(f"/v1/bookings/{{booking_id}}/{action}", BookingAction(gateway, action))
          for action in ("approve", "reject", "cancel", "checkin")],
        ("/v1/clubs", Clubs(gateway)), ("/v1/clubs/{club_id}", Club(gateway)),
        ("/v1/closures", Closures(gateway)), ("/v1/closures/{closure_id}", Closure(gateway)),
        ("/v1/calendar/{year}", Calendar(gateway)), ("/v1/calendar/days", CalendarDays(gateway)),
        ("/v1/calendar/days/{day}", CalendarDay(gateway)),
    ])
