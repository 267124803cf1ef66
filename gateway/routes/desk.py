"""The front desk: the service-centre clerk finds a member, opens an account for a walk-in, and reads
the member's classes, room bookings and welfare cases (their state only) (enrolling and cancelling on their behalf go through the class routes)."""
from datetime import datetime, time

from gateway import auth, store
from gateway.idempotency import run_once
from gateway.openapi import operation
from gateway.problems import Problem, invalid
from gateway.routes import PAGING, Resource, counted, listed, load, paging, read_body
from gateway.routes.accounts import account_now, tell_registered
from gateway.rpc import call
from gateway.schemas import AccountSchema, MemberFoundSchema, WalkInSchema
from services.common.db import like_literal
from services.common.params import object_id
from services.common.roles import ADMIN, DESK
from services.common.zone import HOME_ZONE
from services.enrolment.schemas import MemberEnrolmentSchema
from services.venues.schemas import BookingSchema
from services.welfare.schemas import DeskCaseSchema

TAG = "desk"
COUNTER = (DESK, ADMIN)
_walk_in, _account, _found, _card = WalkInSchema(), AccountSchema(), MemberFoundSchema(many=True), MemberFoundSchema()


def _query(req):
    """The clerk's search words: the last 4 of the ID, part of the phone or of the name."""
    q = (req.get_param("q") or "").strip()
    if not q:
        raise invalid({"q": ["is required: the last 4 of the national ID, part of the phone or of the name"]})
    if len(q) > 100 or "\x00" in q:
        raise invalid({"q": ["at most 100 characters of text"]})
    return like_literal(q)


class DeskMembers(Resource):
    doc = {
        "get": operation("Find a member at the counter by the last 4 of their national ID, part of their phone"
                         " number or of their name; by name", operation_id="findMembers", tag=TAG,
                         response=MemberFoundSchema, many=True, roles=COUNTER, query=(*PAGING, ("q", "string")),
                         errors=(400, 422)),
        "post": operation("Open a member account for a walk-in: phone and name (birth date and the last 4 of the ID"
                          " if given), no password: the member sets one with a reset code sent to their phone. A"
                          " phone that has an account already is a 409 naming it.", operation_id="openWalkInAccount",
                          tag=TAG, body=WalkInSchema, response=AccountSchema, status=201, roles=COUNTER,
                          idempotent=True, errors=(400, 409, 422)),
    }
    location = "/v1/desk/members/{id}/enrolments"

    @auth.require(*COUNTER)
    def on_get(self, req, resp):
        q = _query(req)
        with self.gateway.db.transaction() as conn:
            resp.media = _found.dump(counted(req, store.find_members(conn, q, **paging(req))))

    @auth.require(*COUNTER)
    def on_post(self, req, resp):
        body = read_body(req)
        data = load(_walk_in, body)

        def open_account(key):
            with self.gateway.db.transaction() as conn:
                account = auth.open_for_walk_in(conn, req.context.account.id, data["phone"], data["name"],
                                                data["birth_date"], data.get("id_last4"))
                # notify makes the phone their SMS contact, as for a member who registers themselves
                tell_registered(conn, req, account, auth.DEFAULT_LANGUAGE)
                return 201, _account.dump(account)

        run_once(self.gateway, req, resp, body, open_account, reread=account_now(self.gateway))


class DeskMember(Resource):
    doc = {"get": operation("One member as the counter sees them (the card a search finds): for a member's page"
                            " opened by its link", operation_id="getDeskMember", tag=TAG,
                            response=MemberFoundSchema, roles=COUNTER, errors=(404,))}

    @auth.require(*COUNTER)
    def on_get(self, req, resp, member_id):
        member_id = object_id(member_id, "member")
        with self.gateway.db.transaction() as conn:
            card = store.member_card(conn, member_id)
        if card is None:
            raise Problem(404, "not-found", "no such member")
        resp.media = _card.dump(card)


class DeskMemberEnrolments(Resource):
    doc = {"get": operation("A member's classes, newest first, with who enrolled or cancelled on their behalf",
                            operation_id="listMemberEnrolments", tag=TAG, response=MemberEnrolmentSchema, many=True,
                            roles=COUNTER, query=PAGING, errors=(400, 404))}

    @auth.require(*COUNTER)
    def on_get(self, req, resp, member_id):
        member_id = _known(self.gateway, member_id)
        resp.media = listed(req, call("enrolment", "member_enrolments", member_id, **paging(req),
                                      with_total=True, context=auth.caller(req)))


def _known(gateway, member_id):
    """The member's id, or 404 for a malformed or unknown one."""
    member_id = object_id(member_id, "member")
    with gateway.db.transaction() as conn:
        if store.member_facts(conn, member_id) is None:
            raise Problem(404, "not-found", "no such member")
    return member_id


class DeskMemberBookings(Resource):
    doc = {"get": operation("A member's room bookings from today on (their own and their clubs'), by start",
                            operation_id="listMemberBookings", tag=TAG, response=BookingSchema, many=True,
                            roles=COUNTER, query=PAGING, errors=(400, 404))}

    @auth.require(*COUNTER)
    def on_get(self, req, resp, member_id):
        member_id = _known(self.gateway, member_id)
        today = datetime.combine(datetime.now(HOME_ZONE).date(), time(), HOME_ZONE).isoformat()
        resp.media = listed(req, call("venues", "member_bookings", member_id, today, **paging(req),
                                      with_total=True, context=auth.caller(req)))


class DeskMemberCases(Resource):
    doc = {"get": operation("A member's welfare cases as the counter may see them: reference, programme, state and"
                            " dates, never the reason, amounts, documents or other facts of the case; newest first",
                            operation_id="listMemberCases", tag=TAG, response=DeskCaseSchema, many=True,
                            roles=COUNTER, query=PAGING, errors=(400, 404))}

    @auth.require(*COUNTER)
    def on_get(self, req, resp, member_id):
        member_id = _known(self.gateway, member_id)
        resp.media = listed(req, call("welfare", "member_cases", member_id, **paging(req), with_total=True,
                                      context=auth.caller(req)))


def routes(gateway):
    return [("/v1/desk/members", DeskMembers(gateway)),
            ("/v1/desk/members/{member_id}", DeskMember(gateway)),
            ("/v1/desk/members/{member_id}/enrolments", DeskMemberEnrolments(gateway)),
            ("/v1/desk/members/{member_id}/bookings", DeskMemberBookings(gateway)),
            ("/v1/desk/members/{member_id}/cases", DeskMemberCases(gateway))]
