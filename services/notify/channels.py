"""Channel adapters: SMS through Aliyun's SMS service (Dysms, its signed RPC API), template messages
of the palace's WeChat official account, email over SMTP, and a console channel for development
(used for any channel with no endpoint set).

Each `send(delivery)` returns on success and raises `SendFailed` otherwise, saying whether a
later attempt may pass (429, 5xx, connection trouble) or not (any other refusal)."""
import base64
import hashlib
import hmac
import json
import logging
import smtplib
import socket
import ssl
import threading
import time
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import quote

import requests

from services.notify import domain, settings

log = logging.getLogger(__name__)


class SendFailed(Exception):
    def __init__(self, reason, retryable):
        super().__init__(reason)
        self.reason, self.retryable = reason, retryable


# WeChat answers these when trying later may pass: the system busy, the API's rate limit
WECHAT_LATER = (-1, 45009, 45011)
WECHAT_STALE_TOKEN = (40001, 40014, 42001)  # the access token was refused: fetch a new one, try again


class WeChatTemplates:
    """Template messages of a WeChat official account: an access token fetched with the app id and
    secret (kept until shortly before it lapses, one fetch for all senders at a time), then
    /cgi-bin/message/template/send with the template's keyword fields. The delivery id travels as
    `client_msg_id`, so WeChat drops a second send of the same message to the same member."""

    def __init__(self, base_url, app_id, secret, template_ids, timeout):
        self.base, self.app_id, self.secret = base_url.rstrip("/"), app_id, secret
        self.template_ids, self.timeout = template_ids, timeout
        self.http = requests.Session()
        self.lock = threading.Lock()
        self.token, self.token_until = None, 0.0

    def _call(self, method, path, **options):
        try:
            answer = self.http.request(method, self.base + path, timeout=self.timeout, **options)
        except requests.RequestException as exc:
            raise SendFailed(f"wechat unreachable: {type(exc).__name__}", True) from exc
        if answer.status_code != 200:
            raise SendFailed(f"wechat answered {answer.status_code}: {answer.text[:200]}",
                             domain.retryable(status=answer.status_code))
        try:
            return answer.json()
        except ValueError as exc:
            raise SendFailed(f"wechat answered what is not JSON: {answer.text[:200]}", True) from exc

    def access_token(self, stale=None):
        with self.lock:
            if self.token is None or self.token == stale or time.monotonic() >= self.token_until:
                got = self._call("GET", "/cgi-bin/token", params={
                    "grant_type": "client_credential", "appid": self.app_id, "secret": self.secret})
                if not got.get("access_token"):
                    code = got.get("errcode")
                    raise SendFailed(f"wechat gave no access token: {code} {got.get('errmsg')}",
                                     code in WECHAT_LATER)
                # renewed five minutes early: a token fetched elsewhere with the same app id ends it then
                self.token = got["access_token"]
                self.token_until = time.monotonic() + max(60, int(got.get("expires_in") or 7200) - 300)
            return self.token

    def send(self, d):
        wechat = d["rendered"]["wechat"]
        template_id = self.template_ids.get(wechat["template_id"])
        if not template_id:
            raise SendFailed(f"no WeChat template id for {wechat['template_id']}"
                             " (PALACE_NOTIFY_WECHAT_TEMPLATES)", False)
        body = {"touser": d["address"], "template_id": template_id, "data": wechat["data"],
                "client_msg_id": str(d["id"])}
        token = self.access_token()
        for last in (False, True):
            got = self._call("POST", "/cgi-bin/message/template/send", params={"access_token": token},
                             data=json.dumps(body, ensure_ascii=False).encode(),
                             headers={"Content-Type": "application/json; charset=utf-8"})
            code = got.get("errcode", 0)
            if code == 0:
                return
            if code in WECHAT_STALE_TOKEN and not last:
                token = self.access_token(stale=token)
                continue
            raise SendFailed(f"wechat answered {code}: {got.get('errmsg')}"[:300],
                             code in WECHAT_LATER or code in WECHAT_STALE_TOKEN)


def _aliyun_encode(text):
    """Aliyun's percent-encoding: RFC 3986 unreserved characters stay, a space is %20, not +."""
    return quote(str(text), safe="-_.~")


def aliyun_signature(method, params, secret):
    """Signature version 1.0 of Aliyun's RPC APIs: HMAC-SHA1, keyed by the secret and `&`, of the
    method, `/` and the sorted, encoded parameters; base64."""
    query = "&".join(f"{_aliyun_encode(k)}={_aliyun_encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{_aliyun_encode('/')}&{_aliyun_encode(query)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# Dysms answers these when trying later may pass: flow control (per number or per account),
# throttling and its own trouble; any other code (a bad number, template or signature) is final
ALIYUN_LATER = ("isv.BUSINESS_LIMIT_CONTROL", "Throttling", "isp.", "ServiceUnavailable", "InternalError")


class AliyunSms:
    """Aliyun Dysms SendSms (API version 2017-05-25), form-posted and signed. The message goes as
    the account's approved template (its code registered for our template name) under the
    approved sign name, its parameters as JSON; `OutId` carries the delivery id to the receipts."""

    def __init__(self, url, key_id, secret, sign_name, codes, timeout):
        self.url, self.key_id, self.secret, self.sign_name = url, key_id, secret, sign_name
        self.codes, self.timeout = codes, timeout
        self.http = requests.Session()

    def params(self, d, now=None):
        sms = d["rendered"]["sms"]
        code = self.codes.get(sms["template_id"])
        if not code:  # the account has no approved template for it: no attempt can pass
            raise SendFailed(f"no Aliyun template code for {sms['template_id']}"
                             " (PALACE_NOTIFY_SMS_TEMPLATES)", False)
        params = {
            "AccessKeyId": self.key_id, "Action": "SendSms", "Format": "JSON", "OutId": str(d["id"]),
            "PhoneNumbers": d["address"], "RegionId": "cn-hangzhou", "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1", "SignatureNonce": uuid.uuid4().hex, "SignatureVersion": "1.0",
            "TemplateCode": code, "TemplateParam": json.dumps(sms["params"], ensure_ascii=False, separators=(",", ":")),
            "Timestamp": f"{now or datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ}", "Version": "2017-05-25",
        }
        params["Signature"] = aliyun_signature("POST", params, self.secret)
        return params

    def send(self, d):
        params = self.params(d)
        try:
            answer = self.http.post(self.url, data=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise SendFailed(f"sms provider unreachable: {type(exc).__name__}", True) from exc
        try:
            code = answer.json().get("Code")
        except ValueError:
            code = None
        if answer.status_code == 200 and code == "OK":
            return
        said = f"aliyun answered {answer.status_code} {code}: {answer.text[:200]}"
        if code is None:
            raise SendFailed(said, domain.retryable(status=answer.status_code))
        raise SendFailed(said, code.startswith(ALIYUN_LATER) or domain.retryable(status=answer.status_code))


class Smtp:
    """Mail through a relay that wants TLS (STARTTLS on the submission port, or implicit TLS) and a
    login. The server's certificate is checked against the system's CAs, or the given bundle.
    A retry sends the same Message-ID, so a mailbox that got the first one can drop the second."""

    def __init__(self, hostport, sender, timeout, security="starttls", login=None, ca_file=None):
        host, _, port = hostport.rpartition(":")
        self.host, self.sender, self.timeout = host or hostport, sender, timeout
        self.port = int(port or {"ssl": 465, "starttls": 587}.get(security, 25))
        self.security, self.login = security, login
        self.tls = ssl.create_default_context(cafile=ca_file or None) if security != "none" else None
        self.domain = parseaddr(sender)[1].rpartition("@")[2] or "palace"

    def message(self, d, now=None):
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = self.sender, d["address"], d["title"]
        mail["Date"] = format_datetime(now or datetime.now(timezone.utc))
        mail["Message-ID"] = f"<{d['id']}@{self.domain}>"
        mail.set_content(d["body"], cte="base64")  # a relay without 8BITMIME takes it too
        return mail

    def _connect(self):
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self.tls)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            smtp.starttls(context=self.tls)  # refuses (SMTPNotSupportedError) a relay that offers no TLS
        return smtp

    def send(self, d):
        mail = self.message(d)
        try:
            with self._connect() as smtp:
                if self.login:
                    smtp.login(*self.login)
                smtp.send_message(mail)
        except smtplib.SMTPResponseException as exc:  # 5xx (a refused login among them) is final
            raise SendFailed(f"smtp answered {exc.smtp_code}: {exc.smtp_error!r}"[:300],
                             400 <= exc.smtp_code < 500) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendFailed(f"smtp refused the recipient: {exc.recipients!r}"[:300], False) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise SendFailed(f"smtp relay cannot do what palace needs: {exc}"[:300], False) from exc
        except (OSError, smtplib.SMTPException, socket.timeout) as exc:
            raise SendFailed(f"smtp unreachable: {type(exc).__name__}: {exc}"[:300], True) from exc


class Console:
    """Development: the message goes to the log; an SMS's body stays out of it (reset codes go by SMS)."""

    def __init__(self, kind):
        self.kind = kind

    def send(self, d):
        body = f"({len(d['body'])} characters, not logged)" if self.kind == "sms" else d["body"]
        log.info("[console %s] to %s: %s | %s", self.kind, d["address"], d["title"], body)


def _sms(timeout):
    if not settings.sms_url():
        return Console("sms")
    key_id, secret, sign_name = settings.sms_account()
    return AliyunSms(settings.sms_url(), key_id, secret, sign_name, settings.sms_templates(), timeout)


def _wechat(timeout):
    if not settings.wechat_url():
        return Console("wechat")
    app_id, secret = settings.wechat_app()
    return WeChatTemplates(settings.wechat_url(), app_id, secret, settings.wechat_templates(), timeout)


def _smtp(timeout):
    if not settings.smtp():
        return Console("email")
    return Smtp(settings.smtp(), settings.mail_from(), timeout, settings.smtp_security(), settings.smtp_login(),
                settings.smtp_ca())


def adapters():
    timeout = settings.http_timeout()
    return {
        "sms": _sms(timeout),
        "wechat": _wechat(timeout),
        "email": _smtp(timeout),
        "console": Console("console"),
    }
