"""Local fakes of the providers notify sends through, speaking their real protocols and checking each
request as the provider would, on one HTTP server the test starts:

- `/sms`: Aliyun's SMS service (Dysms), the RPC API `SendSms` (version 2017-05-25), form-posted and
  signed (signature version 1.0, HMAC-SHA1), the way the documentation describes; a bad signature, a
  stale timestamp, a nonce used twice, an unknown key, sign name or template code is refused with
  the code Aliyun gives; with `per_number_gap`, a number texted again too soon is refused as Aliyun's
  flow control refuses it. `GET /sms?phone=...` shows the texts a phone got (for a browser test).
- `/wechat`: the WeChat official-account API: `GET /sns/oauth2/access_token` (a web authorization's
  code for the openid, once; `/wechat-open/connect/oauth2/authorize` is WeChat's authorize page, sending
  the browser back with a code for `wechat_user`), `GET /cgi-bin/token` (client credentials) and
  `POST /cgi-bin/message/template/send?access_token=...`, checking the token, the template id and the
  data as WeChat does today (keyword fields with a `value`, within their type's length, no `first`
  or `remark`), and answering a second send with the same `client_msg_id` without sending it again.

And `MailRelay`, a mail relay (aiosmtpd) that, like a real submission server, speaks TLS (STARTTLS
required before anything else, or implicit TLS) with a certificate made for the test, and takes mail
only after a login.

Every request is recorded as (path, HTTP status, fields, monotonic time); an SMS's fields are the
form's, with `TemplateParam` decoded and the `Code` answered."""
import base64
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import ssl
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, quote, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.harness import free_port

SMS_KEY_ID, SMS_SECRET, SMS_SIGN_NAME = "LTAI5tPalaceTestKey", "palace-test-secret-9f3a", "工人文化宫"
WECHAT_APP_ID, WECHAT_SECRET = "wx5e1c0a3f9b2d4e67", "wechat-test-secret-41d0"
WECHAT_KEYWORD = re.compile(r"^(thing|character_string|time|number|amount|phone_number|phrase|car_number)[0-9]+$")
WECHAT_LIMITS = {"thing": 20, "character_string": 32, "phrase": 5, "car_number": 8}
SMS_REQUIRED = ("AccessKeyId", "Action", "Format", "PhoneNumbers", "SignName", "SignatureMethod",
                "SignatureNonce", "SignatureVersion", "TemplateCode", "Timestamp", "Version", "Signature")


def sms_codes():
    """A made-up Aliyun code for every SMS template palace has, as an account would have them."""
    from services.notify.templates import CATALOGUE
    names = sorted({spec["sms"][0] for spec in CATALOGUE.values()})
    return {name: f"SMS_46{5890000 + i}" for i, name in enumerate(names)}


def wechat_ids():
    """A made-up template id for every WeChat template palace has, as an official account would."""
    from services.notify.templates import CATALOGUE
    names = sorted({spec["sms"][0].replace("SMS_", "WX_") for spec in CATALOGUE.values()})
    return {name: f"tpl{i:03d}-{hashlib.sha1(name.encode()).hexdigest()[:20]}" for i, name in enumerate(names)}


def wechat_env(url):
    """The settings pointing notify at the fake WeChat API at `url` (its authorize page beside it)."""
    return {"PALACE_NOTIFY_WECHAT_URL": url, "PALACE_NOTIFY_WECHAT_APP_ID": WECHAT_APP_ID,
            "PALACE_NOTIFY_WECHAT_AUTHORIZE_URL": url.rsplit("/", 1)[0] + "/wechat-open/connect/oauth2/authorize",
            "PALACE_NOTIFY_WECHAT_APP_SECRET": WECHAT_SECRET,
            "PALACE_NOTIFY_WECHAT_TEMPLATES": ",".join(f"{k}={v}" for k, v in wechat_ids().items())}


def sms_env(url):
    """The settings pointing notify at the fake Aliyun at `url`."""
    return {"PALACE_NOTIFY_SMS_URL": url, "PALACE_NOTIFY_SMS_KEY_ID": SMS_KEY_ID,
            "PALACE_NOTIFY_SMS_KEY_SECRET": SMS_SECRET, "PALACE_NOTIFY_SMS_SIGN_NAME": SMS_SIGN_NAME,
            "PALACE_NOTIFY_SMS_TEMPLATES": ",".join(f"{k}={v}" for k, v in sms_codes().items())}


def _pop_encode(text):
    # the documented recipe: URL-encode as UTF-8, then '+' -> %20, '*' -> %2A, %7E -> '~'
    return quote(text, safe="").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


def _aliyun_expected(method, fields):
    canonical = "&".join(f"{_pop_encode(k)}={_pop_encode(fields[k])}" for k in sorted(fields) if k != "Signature")
    to_sign = method + "&" + _pop_encode("/") + "&" + _pop_encode(canonical)
    return base64.b64encode(hmac.new((SMS_SECRET + "&").encode("utf-8"), to_sign.encode("utf-8"),
                                     hashlib.sha1).digest()).decode()


class Providers:
    def __init__(self):
        self.lock = threading.Lock()
        self.script = {}    # path -> answers still to give: an HTTP status, or an Aliyun code (str)
        self.always = {}    # path -> answer given forever
        self.requests = []  # (path, status, fields, monotonic time)
        self.nonces = set()
        # Aliyun's flow control of one number: a text sooner than this many seconds after the last
        # one the number got is refused (isv.BUSINESS_LIMIT_CONTROL); None: not checked
        self.per_number_gap, self.last_text = None, {}
        self.codes = sms_codes()
        self.template_ids = set(wechat_ids().values())
        self.tokens, self.client_ids = set(), set()
        self.oauth_codes = {}  # code -> (openid, monotonic time it lapses)
        self.wechat_user = "oPalaceTestUser"  # who the authorize page sees in WeChat
        providers = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                path = urlsplit(self.path).path
                if path == "/sms":
                    status, document, fields = providers.aliyun(self.command, self.headers, raw)
                elif path == "/wechat/cgi-bin/message/template/send":
                    path = "/wechat"
                    token = parse_qs(urlsplit(self.path).query).get("access_token", [""])[0]
                    status, document, fields = providers.wechat_send(token, raw)
                else:
                    status, document, fields = 404, {"errcode": 404, "errmsg": "no such api"}, {}
                with providers.lock:
                    providers.requests.append((path, status, fields, time.monotonic()))
                self.answer(status, document)

            def do_GET(self):
                url = urlsplit(self.path)
                if url.path == "/wechat-open/connect/oauth2/authorize":
                    return self.redirect(providers.wechat_authorize(parse_qs(url.query)))
                if url.path == "/wechat/sns/oauth2/access_token":
                    status, document = 200, providers.wechat_oauth_token(parse_qs(url.query))
                    with providers.lock:
                        providers.requests.append(("/wechat/oauth", status, document, time.monotonic()))
                    return self.answer(status, document)
                if url.path == "/wechat/cgi-bin/token":
                    status, document = 200, providers.wechat_token(parse_qs(url.query))
                    with providers.lock:
                        providers.requests.append(("/wechat/token", status, document, time.monotonic()))
                    return self.answer(status, document)
                phone = parse_qs(url.query).get("phone", [""])[0]
                texts = [{"phone": f["PhoneNumbers"], "template": f["TemplateCode"], "params": f["TemplateParam"]}
                         for p, status, f, _ in providers.sent("/sms") if f.get("PhoneNumbers") == phone]
                self.answer(200, texts)

            def redirect(self, location):
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def answer(self, status, document):
                payload = json.dumps(document, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def _scripted(self, path):
        with self.lock:
            queue = self.script.get(path) or []
            return queue.pop(0) if queue else self.always.get(path)

    # Aliyun Dysms

    def aliyun(self, method, headers, raw):
        """(status, answer, fields) as Dysms would give them for this request."""
        fields = dict(parse_qsl(raw, keep_blank_values=True))
        refusal = self._aliyun_refusal(method, headers, fields)
        try:
            fields["TemplateParam"] = json.loads(fields.get("TemplateParam") or "null")
        except ValueError:
            refusal = refusal or (200, "isv.INVALID_JSON_PARAM")
        if refusal is None:
            scripted = self._scripted("/sms")
            if isinstance(scripted, int):
                refusal = (scripted, "ServiceUnavailable" if scripted >= 500 else "Throttling.User")
            elif scripted:
                refusal = (200, scripted)
        refusal = refusal or self._flow_control(fields["PhoneNumbers"])
        status, code = refusal or (200, "OK")
        fields["Code"] = code
        answer = {"RequestId": str(uuid.uuid4()).upper(), "Code": code, "Message": "OK" if code == "OK" else code}
        if code == "OK":
            answer["BizId"] = f"{uuid.uuid4().int % 10**18}^0"
        return status, answer, fields

    def _flow_control(self, number):
        with self.lock:
            now, last = time.monotonic(), self.last_text.get(number)
            if self.per_number_gap is not None and last is not None and now - last < self.per_number_gap:
                return 200, "isv.BUSINESS_LIMIT_CONTROL"
            self.last_text[number] = now
        return None

    def _aliyun_refusal(self, method, headers, fields):
        if method != "POST" or not headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return 400, "MissingParameter"
        missing = [name for name in SMS_REQUIRED if not fields.get(name)]
        if missing:
            return 400, f"MissingParameter.{missing[0]}"
        if fields["AccessKeyId"] != SMS_KEY_ID:
            return 404, "InvalidAccessKeyId.NotFound"
        if (fields["SignatureMethod"], fields["SignatureVersion"]) != ("HMAC-SHA1", "1.0"):
            return 400, "InvalidSignatureMethod"
        try:
            stamp = datetime.strptime(fields["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            return 400, "InvalidTimeStamp.Format"
        if abs(datetime.now(timezone.utc) - stamp) > timedelta(minutes=15):
            return 400, "InvalidTimeStamp.Expired"
        if not hmac.compare_digest(fields["Signature"], _aliyun_expected(method, fields)):
            return 400, "SignatureDoesNotMatch"
        with self.lock:
            if fields["SignatureNonce"] in self.nonces:
                return 400, "SignatureNonceUsed"
            self.nonces.add(fields["SignatureNonce"])
        if (fields["Action"], fields["Version"], fields["Format"]) != ("SendSms", "2017-05-25", "JSON"):
            return 400, "InvalidParameter"
        if fields["SignName"] != SMS_SIGN_NAME:
            return 200, "isv.SMS_SIGNATURE_ILLEGAL"
        if fields["TemplateCode"] not in self.codes.values():
            return 200, "isv.SMS_TEMPLATE_ILLEGAL"
        if not (fields["PhoneNumbers"].isdigit() and len(fields["PhoneNumbers"]) == 11):
            return 200, "isv.MOBILE_NUMBER_ILLEGAL"
        return None

    # WeChat

    def wechat_token(self, query):
        if query.get("grant_type") != ["client_credential"]:
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if query.get("appid") != [WECHAT_APP_ID]:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if query.get("secret") != [WECHAT_SECRET]:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        token = secrets.token_urlsafe(48)
        with self.lock:
            self.tokens.add(token)
        return {"access_token": token, "expires_in": 7200}

    # WeChat's web authorization (snsapi_base): the authorize page sends the browser back with a code
    # for whoever `wechat_user` is (the person in WeChat), and the code gives their openid once

    def wechat_authorize(self, query):
        """Where WeChat's authorize page sends the browser: the callback with a code, or an error page."""
        one = {name: values[0] for name, values in query.items()}
        if one.get("appid") != WECHAT_APP_ID:
            return "/wechat-open/error?errcode=10003"  # "redirect_uri 域名与后台配置不一致" and kin
        if one.get("response_type") != "code" or one.get("scope") not in ("snsapi_base", "snsapi_userinfo") \
                or not one.get("redirect_uri") or not re.fullmatch(r"[A-Za-z0-9]{0,128}", one.get("state", "")):
            return "/wechat-open/error?errcode=10004"
        code = secrets.token_hex(16)
        with self.lock:
            self.oauth_codes[code] = (self.wechat_user, time.monotonic() + 300)
            self.requests.append(("/wechat/authorize", 302, one, time.monotonic()))
        return f"{one['redirect_uri']}?code={code}&state={one.get('state', '')}"

    def wechat_oauth_token(self, query):
        if query.get("grant_type") != ["authorization_code"]:
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if query.get("appid") != [WECHAT_APP_ID]:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if query.get("secret") != [WECHAT_SECRET]:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        scripted = self._scripted("/wechat/oauth")
        if scripted:
            return {"errcode": scripted, "errmsg": f"error {scripted}"}
        with self.lock:
            openid, until = self.oauth_codes.pop((query.get("code") or [""])[0], (None, 0))
        if openid is None or time.monotonic() > until:
            return {"errcode": 40029, "errmsg": "invalid code"}
        return {"access_token": secrets.token_urlsafe(48), "expires_in": 7200,
                "refresh_token": secrets.token_urlsafe(48), "openid": openid, "scope": "snsapi_base"}

    def expire_tokens(self):
        with self.lock:
            self.tokens.clear()

    def wechat_send(self, token, raw):
        """(200, {errcode, errmsg}, the body with the errcode answered)."""
        try:
            body = json.loads(raw)
        except ValueError:
            return 200, {"errcode": 47001, "errmsg": "data format error"}, {}
        code = self._wechat_refusal(token, body)
        if code == 0:
            scripted = self._scripted("/wechat")
            code = scripted or 0
        if code == 0 and body.get("client_msg_id"):
            key = (body["touser"], body["client_msg_id"])
            with self.lock:
                body["duplicate"] = key in self.client_ids
                self.client_ids.add(key)
        body["errcode"] = code
        answer = {"errcode": code, "errmsg": "ok" if code == 0 else f"error {code}"}
        if code == 0:
            answer["msgid"] = uuid.uuid4().int % 10**16
        return 200, answer, body

    def _wechat_refusal(self, token, body):
        with self.lock:
            if token not in self.tokens:
                return 40001
        if not isinstance(body.get("touser"), str) or not body["touser"]:
            return 40003
        if body.get("template_id") not in self.template_ids:
            return 40037
        data = body.get("data")
        if not isinstance(data, dict) or not data:
            return 47003
        for keyword, field in data.items():
            kind = WECHAT_KEYWORD.match(keyword)
            if kind is None or not isinstance(field, dict) or set(field) != {"value"} \
                    or not isinstance(field["value"], str) or not field["value"] \
                    or len(field["value"]) > WECHAT_LIMITS.get(kind.group(1), 64):
                return 47003  # "argument invalid!": `first`, `remark`, `color` and too long values among it
        return 0

    # what was received

    def sent(self, path):
        with self.lock:
            return [r for r in self.requests if r[0] == path]

    def to(self, path, address):
        key = {"/sms": "PhoneNumbers"}.get(path, "touser")
        return [r for r in self.sent(path) if r[2].get(key) == address]

    def template_id(self, name):
        """The id the fake official account added palace's WeChat template `name` under."""
        return wechat_ids()[name]

    def template(self, name):
        """The code the fake account approved palace's SMS template `name` under."""
        return self.codes[name]


# mail

MAIL_USER, MAIL_PASSWORD = "palace@mail.example.org", "relay-password-7c1e"


def self_signed(folder):
    """(certificate, key) files of a certificate for 127.0.0.1 and localhost that signs itself: the
    relay presents it and notify is told to trust it (PALACE_NOTIFY_SMTP_CA)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "relay.crt", folder / "relay.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class MailRelay:
    """`security`: "starttls" (plain connection, STARTTLS required) or "ssl" (TLS from the start).
    Records (recipients, the message as received, the login used)."""

    def __init__(self, folder, security="starttls"):
        self.certificate, key = self_signed(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certificate, key)
        self.messages, self.logins = [], []
        relay = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                relay.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace"),
                                       session.authenticated and relay.logins[-1]))
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and (auth_data.login.decode(), auth_data.password.decode()) \
                == (MAIL_USER, MAIL_PASSWORD)
            if ok:
                relay.logins.append(auth_data.login.decode())
            return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself

        options = dict(authenticator=authenticator, auth_required=True, auth_require_tls=True)
        if security == "ssl":  # TLS from the first byte (aiosmtpd cannot tell: AUTH must not wait for STARTTLS)
            options.update(ssl_context=context, auth_require_tls=False)
        else:
            options.update(tls_context=context, require_starttls=True)
        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()

    def env(self, security="starttls"):
        return {"PALACE_NOTIFY_SMTP": f"127.0.0.1:{self.port}", "PALACE_NOTIFY_SMTP_SECURITY": security,
                "PALACE_NOTIFY_SMTP_USER": MAIL_USER, "PALACE_NOTIFY_SMTP_PASSWORD": MAIL_PASSWORD,
                "PALACE_NOTIFY_SMTP_CA": str(self.certificate)}

    def to(self, address):
        return [m for m in self.messages if address in m[0]]

    def stop(self):
        self.controller.stop()
