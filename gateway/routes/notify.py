"""A member's notifications, preferences and contacts; the failed deliveries for ops.
Answered by the notify service over RPC."""
from gateway import auth
from gateway.idempotency import run_once
from gateway.openapi import operation
from gateway.routes import PAGING, Resource, listed, paging, read_body
from gateway.rpc import call
from services.common.roles import ADMIN
from services.notify.schemas import (
    ContactsSchema,
    DeliverySchema,
    InboxEntrySchema,
    PreferencesSchema,
    PreviewSchema,
    RenderedSchema,
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
        "put": operation("Set where I can be reached: phone, email, WeChat openid (one left out is cleared)",
                         operation_id="setMyContacts", tag=TAG, body=ContactsSchema, response=ContactsSchema,
                         errors=(400, 415, 422)),
    }


    @auth.require()
    def on_get(self, req, resp):
        resp.media = call("notify", "get_contacts", context=auth.caller(req))

    @auth.require()
    def on_put(self, req, resp):
        resp.media = call("notify", "put_contacts", read_body(req), context=auth.caller(req))


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
        run_once(self.gateway.db, req, resp, {}, lambda key: (
            200, call("notify", "replay_delivery", delivery_id, context=auth.caller(req, key))))


class Preview(Resource):
    doc = {"post": operation("Preview the message of an event type in a language, for every channel",
                             operation_id="previewMessage", tag=TAG, body=PreviewSchema, response=RenderedSchema,
                             roles=(ADMIN,), errors=(400, 415, 422))}


    @auth.require(ADMIN)
    def on_post(self, req, resp):
        resp.media = call("notify", "preview", read_body(req), context=auth.caller(req))


def routes(gateway):
    return [("/v1/me/notifications", MyNotifications(gateway)),
            ("/v1/me/notifications/{notification_id}/read", ReadNotification(gateway)),
            ("/v1/me/notification-preferences", MyPreferences(gateway)),
            ("/v1/me/contacts", MyContacts(gateway)),
            ("/v1/notify/failed-deliveries", FailedDeliveries(gateway)),
            ("/v1/notify/deliveries/{delivery_id}/replay", ReplayDelivery(gateway)),
            ("/v1/notify/preview", Preview(gateway))]
