"""Channel adapters: WeChat template messages and SMS through a provider's HTTP endpoint, email
over SMTP, and a console channel for development (used for any channel with no endpoint set).

Each `send(delivery)` returns on success and raises `SendFailed` otherwise, saying whether a
later attempt may pass (429, 5xx, connection trouble) or not (any other refusal)."""
import logging
import smtplib
import socket
from email.message import EmailMessage

import requests

from services.notify import domain, settings

log = logging.getLogger(__name__)


class SendFailed(Exception):
    def __init__(self, reason, retryable):
        super().__init__(reason)
        self.reason, self.retryable = reason, retryable


class HttpProvider:
    """A provider's JSON endpoint; the delivery id travels as `out_id` so the provider can drop a
    duplicate if an answer is lost and we send again."""

    def __init__(self, kind, url, timeout):
        self.kind, self.url, self.timeout = kind, url, timeout
        self.http = requests.Session()

    def body(self, d):
        rendered = d["rendered"]
        if self.kind == "sms":
            return {"phone": d["address"], "template_id": rendered["sms"]["template_id"],
                    "params": rendered["sms"]["params"], "out_id": str(d["id"])}
        return {"touser": d["address"], "template_id": rendered["wechat"]["template_id"],
                "data": rendered["wechat"]["data"], "out_id": str(d["id"])}

    def send(self, d):
        try:
            answer = self.http.post(self.url, json=self.body(d), timeout=self.timeout)
        except requests.RequestException as exc:
            raise SendFailed(f"{self.kind} provider unreachable: {type(exc).__name__}", True) from exc
        if answer.status_code >= 300:
            raise SendFailed(f"{self.kind} provider answered {answer.status_code}: {answer.text[:200]}",
                             domain.retryable(status=answer.status_code))


class Smtp:
    def __init__(self, hostport, sender, timeout):
        host, _, port = hostport.rpartition(":")
        self.host, self.port, self.sender, self.timeout = host or hostport, int(port or 25), sender, timeout

    def send(self, d):
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = self.sender, d["address"], d["title"]
        mail["Message-ID"] = f"<{d['id']}@palace>"
        mail.set_content(d["body"])
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.send_message(mail)
        except smtplib.SMTPResponseException as exc:
            raise SendFailed(f"smtp answered {exc.smtp_code}: {exc.smtp_error!r}"[:300],
                             400 <= exc.smtp_code < 500) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendFailed(f"smtp refused the recipient: {exc.recipients!r}"[:300], False) from exc
        except (OSError, smtplib.SMTPException, socket.timeout) as exc:
            raise SendFailed(f"smtp unreachable: {type(exc).__name__}: {exc}"[:300], True) from exc


class Console:
    """Development: the message goes to the log."""

    def __init__(self, kind):
        self.kind = kind

    def send(self, d):
        log.info("[console %s] to %s: %s | %s", self.kind, d["address"], d["title"], d["body"])


def adapters():
    timeout = settings.http_timeout()
    return {
        "sms": HttpProvider("sms", settings.sms_url(), timeout) if settings.sms_url() else Console("sms"),
        "wechat": HttpProvider("wechat", settings.wechat_url(), timeout) if settings.wechat_url() else Console("wechat"),
        "email": Smtp(settings.smtp(), settings.mail_from(), timeout) if settings.smtp() else Console("email"),
        "console": Console("console"),
    }
