"""A member's notifications, preferences and contacts; the failed deliveries for ops; broadcasts
from staff. Answered by the notify service over RPC (a broadcast's audience found here first)."""
from gateway import auth, store
from gateway.idempotency import run_once
from gateway.openapi import operation
from gateway.problems import Problem, invalid
from gateway.routes import PAGING, Resource, listed, load, paging, read_body
from gateway.rpc import call
from services.common.errors import NotFound
from services.common.roles import ADMIN, TEACHER, UNIT_ADMIN
from services.notify.schemas import (
    BroadcastOutSchema,
    BroadcastPreviewSchema,
    BroadcastSchema,
    ContactsSchema,
    DeliverySchema,
    FollowsSchema,
    InboxEntrySchema,
    PreferencesSchema,
    PreviewSchema,
    RenderedSchema,
    WeChatAuthorizeSchema,
)

TAG = "notifications"


class MyNotifications(Resource):
    doc = {"get": operation("My notifications, newest first; `unread=true` or `read=true` filters them",
                            operation_id="listMyNotifications", tag=TAG, response=InboxEntrySchema, many=True,
                            query=(*PAGING, ("unread", "boolean"), ("read", "boolean")), errors=(400,))}


    @auth.require()
    def on_get(self, req, resp):
        unread = req.get_param_as_bool("unread", default=False)
        read = req.get_param_as_bool("read", default=False)
        resp.media = listed(req, call("notify", "my_inbox", **paging(req), unread_only=unread, read_only=read,
                                      with_total=True, context=auth.caller(req)))


class ReadNotification(Resource):
    doc = {"post": operation("Mark a notification read", operation_id="markNotificationRead", tag=TAG,
                             response=InboxEntrySchema, errors=(404,))}


    @auth.require()
    def on_post(self, req, resp, notification_id):
        resp.media = call("notify", "mark_read", notification_id, context=auth.caller(req))


class MyPreferences(Resource):
    doc = {
        "get": operation("My notification preferences (the defaults until I change them)",
                         operation_id="getMyNotificationPreferences", tag=TAG, response=PreferencesSchema, errors=()),
        "put": operation("Change my notification preferences: the fields sent replace mine, categories one "
                         "by one; channels per category are tried in order (the inbox always keeps a copy)",
                         operation_id="setMyNotificationPreferences", tag=TAG, body=PreferencesSchema,
                         response=PreferencesSchema, errors=(400, 415, 422)),
    }


    @auth.require()
    def on_get(self, req, resp):
        resp.media = call("notify", "get_preferences", context=auth.caller(req))

    @auth.require()
    def on_put(self, req, resp):
        resp.media = call("notify", "put_preferences", read_body(req), context=auth.caller(req))


class MyContacts(Resource):
    doc = {
        "get": operation("Where I can be reached", operation_id="getMyContacts", tag=TAG, response=ContactsSchema,
                         errors=()),
        "put": operation("Set where I can be reached: phone and email (one left out is cleared); WeChat is bound"
                         " through GET /v1/me/wechat/authorize",
                         operation_id="setMyContacts", tag=TAG, body=ContactsSchema, response=ContactsSchema,
                         errors=(400, 415, 422)),
    }


    @auth.require()
    def on_get(self, req, resp):
        resp.media = call("notify", "get_contacts", context=auth.caller(req))

    @auth.require()
    def on_put(self, req, resp):
        resp.media = call("notify", "put_contacts", read_body(req), context=auth.caller(req))


class MyFollows(Resource):
    doc = {"get": operation("The course categories and sites I follow: a class published in one is announced to"
                            " me, once", operation_id="listMyFollows", tag=TAG, response=FollowsSchema, errors=())}

    @auth.require()
    def on_get(self, req, resp):
        resp.media = call("notify", "my_follows", context=auth.caller(req))


class Follow(Resource):
    """PUT follows, DELETE stops following; both answer what I follow now."""

    def __init__(self, gateway, kind, field):
        super().__init__(gateway)
        self.kind, self.field = kind, field
        what = {"category": "a course category", "site": "a site"}[kind]
        self.doc = {
            "put": operation(f"Follow {what}", operation_id=f"follow{kind.title()}", tag=TAG, response=FollowsSchema,
                             errors=(422,)),
            "delete": operation(f"Stop following {what}", operation_id=f"unfollow{kind.title()}", tag=TAG,
                                response=FollowsSchema, errors=(422,))}

    @auth.require()
    def on_put(self, req, resp, **params):
        if self.kind == "site":
            _known_site(req, params[self.field])
        resp.media = call("notify", "set_follow", self.kind, params[self.field], True, context=auth.caller(req))

    @auth.require()
    def on_delete(self, req, resp, **params):
        resp.media = call("notify", "set_follow", self.kind, params[self.field], False, context=auth.caller(req))


def _known_site(req, site_id):
    """A site one follows or speaks to is one venues knows (notify cannot tell, and need not ask): an
    unknown or malformed id is a 422 naming site_id. Stopping a follow asks nothing: a site gone since
    can still be let go."""
    try:
        call("venues", "get_site", str(site_id), context=auth.caller(req))
    except NotFound:
        raise invalid({"site_id": ["is not a known site"]}) from None


CALLBACK = "/v1/wechat/callback"
BOUND = "/me/contacts?wechat=bound"  # the member app's contacts screen


class WeChatAuthorize(Resource):
    doc = {"get": operation("Start binding my WeChat: where to send my browser (WeChat's web authorization, which"
                            " comes back to /v1/wechat/callback); my openid is never typed in",
                            operation_id="authorizeMyWeChat", tag=TAG, response=WeChatAuthorizeSchema, errors=())}

    @auth.require()
    def on_get(self, req, resp):
        resp.cache_control = ["no-store"]
        resp.media = call("notify", "wechat_authorize", req.prefix + CALLBACK, context=auth.caller(req))


class MyWeChat(Resource):
    doc = {"delete": operation("Unbind my WeChat: no more messages there until I bind it again",
                               operation_id="unbindMyWeChat", tag=TAG, response=ContactsSchema, errors=())}

    @auth.require()
    def on_delete(self, req, resp):
        resp.media = call("notify", "wechat_unbind", context=auth.caller(req))


class WeChatCallback(Resource):
    doc = {"get": operation("Where WeChat sends the member's browser back with a code and the state it was given:"
                            " the openid is bound to the member who started, then the browser goes to their"
                            " contacts. A state unknown, used or lapsed binds nothing (422); WeChat refusing"
                            " the exchange: 422 for the code, 502 otherwise", operation_id="finishWeChatBinding",
                            tag=TAG, status=303, auth=False, query=(("code", "string"), ("state", "string")),
                            errors=(422, 502))}

    def on_get(self, req, resp):
        # no sign-in: WeChat's redirect carries none; the state says who started the binding
        call("notify", "wechat_bind", req.get_param("code"), req.get_param("state"), context=auth.caller(req))
        resp.cache_control = ["no-store"]
        resp.status = 303
        resp.location = BOUND


class FailedDeliveries(Resource):
    doc = {"get": operation("Deliveries that failed for good, newest first", operation_id="listFailedDeliveries",
                            tag=TAG, response=DeliverySchema, many=True, roles=(ADMIN,), query=PAGING, errors=(400,))}


    @auth.require(ADMIN)
    def on_get(self, req, resp):
        resp.media = listed(req, call("notify", "failed_deliveries", **paging(req),
                                      with_total=True, context=auth.caller(req)))


class ReplayDelivery(Resource):
    doc = {"post": operation("Send a failed delivery again, from its first attempt", operation_id="replayDelivery",
                             tag=TAG, response=DeliverySchema, roles=(ADMIN,), idempotent=True, errors=(404, 409, 422))}


    @auth.require(ADMIN)
    def on_post(self, req, resp, delivery_id):
        run_once(self.gateway, req, resp, {}, lambda key: (
            200, call("notify", "replay_delivery", delivery_id, context=auth.caller(req, key))))


class Preview(Resource):
    doc = {"post": operation("Preview the message of an event type in a language, for every channel",
                             operation_id="previewMessage", tag=TAG, body=PreviewSchema, response=RenderedSchema,
                             roles=(ADMIN,), errors=(400, 415, 422))}


    @auth.require(ADMIN)
    def on_post(self, req, resp):
        resp.media = call("notify", "preview", read_body(req), context=auth.caller(req))


SPEAKERS = (ADMIN, TEACHER, UNIT_ADMIN)  # a course's students: admins and teachers; a unit: its admin; all: admins
_broadcast = BroadcastSchema()
ROSTER_PAGE = 200


def _audience(resource, req, body):
    """The members a broadcast goes to, once the caller is found to be one who may speak to them."""
    data = load(_broadcast, body)
    account = req.context.account
    if data["audience"] == "course":
        account.require(ADMIN, TEACHER)
        return _students(req, str(data["course_id"]))
    if data["audience"] == "unit":
        account.require(ADMIN, UNIT_ADMIN)
        if not account.has(ADMIN) and str(account.unit) != str(data["unit_id"]):
            raise Problem(403, "forbidden", "a unit administrator speaks to their own unit only")
        with resource.gateway.db.transaction() as conn:
            if not store.unit_exists(conn, data["unit_id"]):
                raise invalid({"unit_id": ["no such unit"]})
            return store.member_ids(conn, data["unit_id"])
    account.require(ADMIN)
    if data["audience"] == "site":
        _known_site(req, data["site_id"])
        return call("notify", "site_followers", str(data["site_id"]), context=auth.caller(req))
    with resource.gateway.db.transaction() as conn:
        return store.member_ids(conn)


def _students(req, course_id):
    """The members holding a confirmed seat in the course, page by page from enrolment."""
    found, offset = [], 0
    while True:
        rows = call("enrolment", "course_enrolments", course_id, status="confirmed", limit=ROSTER_PAGE,
                    offset=offset, context=auth.caller(req))
        found.extend(r["member_id"] for r in rows)
        if len(rows) < ROSTER_PAGE:
            return found
        offset += ROSTER_PAGE


class BroadcastPreview(Resource):
    doc = {"post": operation("Before sending a broadcast: how many members it reaches, and its message",
                             operation_id="previewBroadcast", tag=TAG, body=BroadcastSchema,
                             response=BroadcastPreviewSchema, roles=SPEAKERS, errors=(400, 404, 415, 422))}


    @auth.require(*SPEAKERS)
    def on_post(self, req, resp):
        body = read_body(req)
        members = _audience(self, req, body)
        resp.media = call("notify", "broadcast_preview", body, members, context=auth.caller(req))


class Broadcasts(Resource):
    doc = {"post": operation("Send a message to a course's students, a unit's members, a site's followers or all"
                             " members (these two: admins):"
                             " each member once, through their preferences, quiet hours and daily cap; sent a"
                             " group at a time (GET it for progress)", operation_id="sendBroadcast", tag=TAG,
                             body=BroadcastSchema, response=BroadcastOutSchema, status=201, roles=SPEAKERS,
                             idempotent=True, errors=(400, 404, 415, 422))}
    location = "/v1/broadcasts/{id}"

    @auth.require(*SPEAKERS)
    def on_post(self, req, resp):
        body = read_body(req)
        members = _audience(self, req, body)
        run_once(self.gateway, req, resp, body, lambda key: (
            201, call("notify", "broadcast", body, members, context=auth.caller(req, key))))


class Broadcast(Resource):
    doc = {"get": operation("A broadcast and how far it has gone", operation_id="getBroadcast", tag=TAG,
                            response=BroadcastOutSchema, roles=SPEAKERS, errors=(404,))}


    @auth.require(*SPEAKERS)
    def on_get(self, req, resp, broadcast_id):
        resp.media = call("notify", "get_broadcast", broadcast_id, context=auth.caller(req))


class CancelBroadcast(Resource):
    doc = {"post": operation("Stop a broadcast midway: the members not told yet are not told",
                             operation_id="cancelBroadcast", tag=TAG, response=BroadcastOutSchema, roles=SPEAKERS,
                             errors=(404, 409))}


    @auth.require(*SPEAKERS)
    def on_post(self, req, resp, broadcast_id):
        resp.media = call("notify", "cancel_broadcast", broadcast_id, context=auth.caller(req))


def routes(gateway):
    return [("/v1/me/notifications", MyNotifications(gateway)),
            ("/v1/me/notifications/{notification_id}/read", ReadNotification(gateway)),
            ("/v1/me/notification-preferences", MyPreferences(gateway)),
            ("/v1/me/contacts", MyContacts(gateway)),
            ("/v1/me/follows", MyFollows(gateway)),
            ("/v1/me/follows/categories/{category}", Follow(gateway, "category", "category")),
            ("/v1/me/follows/sites/{site_id}", Follow(gateway, "site", "site_id")),
            ("/v1/me/wechat", MyWeChat(gateway)),
            ("/v1/me/wechat/authorize", WeChatAuthorize(gateway)),
            (CALLBACK, WeChatCallback(gateway)),
            ("/v1/notify/failed-deliveries", FailedDeliveries(gateway)),
            ("/v1/notify/deliveries/{delivery_id}/replay", ReplayDelivery(gateway)),
            ("/v1/notify/preview", Preview(gateway)),
            ("/v1/broadcasts", Broadcasts(gateway)),
            ("/v1/broadcasts/preview", BroadcastPreview(gateway)),
            ("/v1/broadcasts/{broadcast_id}", Broadcast(gateway)),
            ("/v1/broadcasts/{broadcast_id}/cancel", CancelBroadcast(gateway))]
