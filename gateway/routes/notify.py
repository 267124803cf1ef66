"""A member's notifications: answered by the notify service over RPC."""
from gateway import auth
from gateway.openapi import operation
from gateway.routes import PAGING, paging
from gateway.rpc import call
from services.notify.schemas import InboxEntrySchema

TAG = "notifications"


class MyNotifications:
    doc = {"get": operation("My notifications, newest first", tag=TAG, response=InboxEntrySchema, many=True,
                            query=(*PAGING, ("unread", "boolean")), errors=(400,))}

    def __init__(self, gateway):
        self.gateway = gateway

    @auth.require()
    def on_get(self, req, resp):
        unread = req.get_param_as_bool("unread", default=False)
        resp.media = call("notify", "my_inbox", **paging(req), unread_only=unread, context=auth.caller(req))


class ReadNotification:
    doc = {"post": operation("Mark a notification read", tag=TAG, response=InboxEntrySchema, errors=(404,))}

    def __init__(self, gateway):
        self.gateway = gateway

    @auth.require()
    def on_post(self, req, resp, notification_id):
        resp.media = call("notify", "mark_read", notification_id, context=auth.caller(req))


def routes(gateway):
    return [("/v1/me/notifications", MyNotifications(gateway)),
            ("/v1/me/notifications/{notification_id}/read", ReadNotification(gateway))]
