"""Where a member is reached comes from their account, never typed in: WeChat's web authorization
binds their openid (through a local fake of WeChat's authorize page and API), and a state that is
unknown, used or lapsed binds nothing."""
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.e2e.conftest import _phones, new_member, sign_in
from tests.e2e.test_bad_input import assert_problem
from tests.harness import eventually
from tests.providers import Providers, sms_env, wechat_env


@pytest.fixture(scope="module", autouse=True)
def providers(stack):
    """WeChat and the SMS provider notify speaks to (local fakes), started before the palace is."""
    provider = Providers()
    stack.env.update(**sms_env(provider.url + "/sms"), **wechat_env(provider.url + "/wechat"),
                     PALACE_NOTIFY_POLL="0.1")
    yield provider
    provider.stop()


def in_wechat(providers, member):
    """The member opens the authorize address in WeChat: WeChat sends the browser back to the
    palace's callback with a code; returns that callback address."""
    started = member.get("/v1/me/wechat/authorize")
    assert started.status_code == 200, started.text
    at_wechat = requests.get(started.json()["url"], allow_redirects=False, timeout=15)
    assert at_wechat.status_code == 302, at_wechat.text
    return at_wechat.headers["Location"]


def test_a_member_binds_their_wechat_through_the_authorization_and_hears_there(palace, admin, providers):
    member = new_member(palace.url)
    providers.wechat_user = openid = f"oWx{uuid.uuid4().hex[:20]}"

    url = urlsplit(member.get("/v1/me/wechat/authorize").json()["url"])
    asked = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == providers.url + "/wechat-open/connect/oauth2/authorize"
    assert url.fragment == "wechat_redirect"
    assert asked["appid"] == "wx5e1c0a3f9b2d4e67" and asked["response_type"] == "code"
    assert asked["scope"] == "snsapi_base" and asked["redirect_uri"] == palace.url + "/v1/wechat/callback"
    assert asked["state"].isalnum() and len(asked["state"]) >= 32

    back = requests.get(in_wechat(providers, member), allow_redirects=False, timeout=15)
    assert back.status_code == 303, back.text
    assert back.headers["Location"] == "/me/contacts?wechat=bound"
    # the phone comes by the account event, which may arrive after the binding: both stay
    contacts = eventually(lambda: (c := member.get("/v1/me/contacts").json())["phone"] and c, timeout=15)
    assert contacts["wechat_openid"] == openid, contacts
    [(_, _, exchanged, _)] = [r for r in providers.sent("/wechat/oauth") if r[2].get("openid") == openid]

    # changing the phone and email keeps what WeChat said; typing an openid is refused by name
    kept = member.put("/v1/me/contacts", {"phone": contacts["phone"], "email": "wang@example.org"})
    assert kept.status_code == 200 and kept.json()["wechat_openid"] == openid, kept.text
    assert_problem(member.put("/v1/me/contacts", {"phone": contacts["phone"], "wechat_openid": "oTypedIn"}),
                   422, "validation-failed", "wechat_openid")
    assert member.get("/v1/me/contacts").json()["wechat_openid"] == openid

    # and the palace's messages now reach them in WeChat (classes go WeChat first)
    course = admin.post("/v1/courses", {"title": "书法入门", "capacity": 5})
    assert member.post(f"/v1/courses/{course.json()['id']}/enrolments").status_code == 201
    [(_, _, sent, _)] = eventually(lambda: providers.to("/wechat", openid), timeout=15)
    assert sent["errcode"] == 0 and sent["touser"] == openid

    unbound = member.delete("/v1/me/wechat")
    assert unbound.status_code == 200 and unbound.json()["wechat_openid"] is None


def test_a_callback_with_a_used_unknown_or_lapsed_state_binds_nothing(palace, stack, providers):
    member = new_member(palace.url)
    providers.wechat_user = f"oWx{uuid.uuid4().hex[:20]}"

    lapsing = in_wechat(providers, member)
    with stack.db("notify") as conn:
        conn.execute("UPDATE wechat_states SET expires_at = now() - interval '1 second' WHERE member_id = %s",
                     (member.id,))
    assert_problem(requests.get(lapsing, allow_redirects=False, timeout=15), 422, "wechat-state-refused", "state")

    callback = in_wechat(providers, member)
    forged = urlsplit(callback)._replace(query=f"code={parse_qs(urlsplit(callback).query)['code'][0]}"
                                               f"&state={uuid.uuid4().hex}").geturl()
    assert_problem(requests.get(forged, allow_redirects=False, timeout=15), 422, "wechat-state-refused", "state")
    assert_problem(requests.get(palace.url + "/v1/wechat/callback?code=abc", timeout=15), 422,
                   "validation-failed", "state")
    assert member.get("/v1/me/contacts").json()["wechat_openid"] is None, "nothing bound"

    assert requests.get(callback, allow_redirects=False, timeout=15).status_code == 303  # the real one, once
    assert_problem(requests.get(callback, allow_redirects=False, timeout=15), 422, "wechat-state-refused", "state")
    assert member.get("/v1/me/contacts").json()["wechat_openid"] == providers.wechat_user


def test_wechat_refusing_the_code_is_a_422_for_the_code_and_its_own_trouble_a_502(palace, providers):
    member = new_member(palace.url)
    providers.script["/wechat/oauth"] = [40029]
    assert_problem(requests.get(in_wechat(providers, member), allow_redirects=False, timeout=15), 422,
                   "validation-failed", "code")
    providers.script["/wechat/oauth"] = [-1]  # 系统繁忙
    problem = assert_problem(requests.get(in_wechat(providers, member), allow_redirects=False, timeout=15), 502,
                             "wechat-refused")
    assert "-1" in problem["detail"]
    assert member.get("/v1/me/contacts").json()["wechat_openid"] is None, "nothing bound"


def code_texted_to(providers, phone):
    [(_, _, text, _)] = eventually(lambda: providers.to("/sms", phone), timeout=15)
    assert text["Code"] == "OK" and text["TemplateCode"] == providers.template("SMS_PALACE_PHONE_CODE")
    return text["TemplateParam"]["code"]


def test_a_member_moves_to_a_new_phone_with_a_code_sent_there_and_their_texts_follow(palace, admin, providers):
    member = new_member(palace.url)
    old = member.get("/v1/me").json()["phone"]
    assert eventually(lambda: member.get("/v1/me/contacts").json()["phone"] == old)
    new = str(next(_phones))

    assert member.post("/v1/me/phone", {"phone": new}).status_code == 202
    code = code_texted_to(providers, new)
    wrong = "00000000" if code != "00000000" else "11111111"
    assert_problem(member.post("/v1/me/phone/confirm", {"phone": new, "code": wrong}), 422, "bad-phone-code", "code")
    assert member.get("/v1/me").json()["phone"] == old, "a wrong code changes nothing"

    moved = member.post("/v1/me/phone/confirm", {"phone": new, "code": code})
    assert moved.status_code == 200 and moved.json()["phone"] == new, moved.text
    assert eventually(lambda: member.get("/v1/me/contacts").json()["phone"] == new), "notify follows the account"
    assert sign_in(palace.url, new, "member-password").get("/v1/me").json()["id"] == member.id
    assert_problem(member.post("/v1/me/phone/confirm", {"phone": new, "code": code}), 422, "bad-phone-code", "code")

    # another member proving they hold a phone someone signs in with is told it is taken
    other = new_member(palace.url)
    assert other.post("/v1/me/phone", {"phone": new}).status_code == 202
    [_, second] = eventually(lambda: providers.to("/sms", new) if len(providers.to("/sms", new)) > 1 else None,
                             timeout=15)
    assert_problem(other.post("/v1/me/phone/confirm", {"phone": new, "code": second[2]["TemplateParam"]["code"]}),
                   409, "phone-taken", "phone")
    assert_problem(member.post("/v1/me/phone", {"phone": "call me"}), 422, "validation-failed", "phone")

    # and what the palace texts now goes to the new phone
    course = admin.post("/v1/courses", {"title": "太极拳", "capacity": 5})
    assert member.post(f"/v1/courses/{course.json()['id']}/enrolments").status_code == 201
    assert eventually(lambda: [t for t in providers.to("/sms", new)
                               if t[2]["TemplateCode"] == providers.template("SMS_PALACE_ENROL_OK")], timeout=15)
    assert not [t for t in providers.to("/sms", old) if t[2]["TemplateCode"] == providers.template("SMS_PALACE_ENROL_OK")]
