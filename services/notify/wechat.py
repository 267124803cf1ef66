"""Binding a member's WeChat openid through the official account's web authorization (网页授权,
scope `snsapi_base`, no consent page): the member's browser goes to WeChat's authorize address with
a `state` made for them, WeChat sends it back to our callback with a code, and the code is exchanged
at /sns/oauth2/access_token for the openid. The openid is never typed in: only WeChat can say it.

The state is random, kept as its SHA-256 with the member and a lapse time, and taken (deleted) by the
first callback that shows it, whatever comes of the exchange after."""
import hashlib
import secrets
from urllib.parse import urlencode

import requests

from services.common.errors import BadGateway, Invalid
from services.notify import settings

SCOPE = "snsapi_base"
# the code was wrong, used already or lapsed (5 minutes): the member's to retry, not our trouble
WECHAT_BAD_CODE = (40029, 40163, 41008)


def new_state():
    """(the state for the browser, its digest to keep): 32 hex characters, within WeChat's 128 of [a-zA-Z0-9]."""
    state = secrets.token_hex(16)
    return state, digest(state)


def digest(state):
    return hashlib.sha256(state.encode()).hexdigest()


def authorize_url(state, callback):
    """Where the member's browser goes; `#wechat_redirect` as WeChat's documentation asks."""
    app_id, _ = settings.wechat_app()
    query = urlencode({"appid": app_id, "redirect_uri": settings.wechat_callback_url() or callback,
                       "response_type": "code", "scope": SCOPE, "state": state})
    return f"{settings.wechat_authorize_url()}?{query}#wechat_redirect"


def openid(code):
    """The openid WeChat gives for the code, or Invalid (a bad code) or BadGateway (anything else)."""
    base = settings.wechat_url().rstrip("/")
    if not base:
        raise BadGateway("WeChat is not configured here (PALACE_NOTIFY_WECHAT_URL)", "wechat-off")
    app_id, secret = settings.wechat_app()
    try:
        answer = requests.get(base + "/sns/oauth2/access_token", timeout=settings.http_timeout(), params={
            "appid": app_id, "secret": secret, "code": code, "grant_type": "authorization_code"})
        got = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise BadGateway(f"WeChat did not answer the code exchange: {type(exc).__name__}", "wechat-unreachable") from exc
    if answer.status_code != 200 or not isinstance(got, dict):
        raise BadGateway(f"WeChat answered {answer.status_code}", "wechat-refused")
    code_error = got.get("errcode")
    if code_error in WECHAT_BAD_CODE:
        raise Invalid(f"WeChat refused the code: {code_error} {got.get('errmsg')}",
                      errors={"code": ["WeChat refused it (wrong, used or lapsed): start again"]})
    if code_error or not isinstance(got.get("openid"), str) or not got["openid"]:
        raise BadGateway(f"WeChat gave no openid: {code_error} {got.get('errmsg')}"[:300], "wechat-refused")
    return got["openid"]
