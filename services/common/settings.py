"""Every setting of a palace, listed once: its name, its default, the parts that read it and what it
means. `config.env` reads only these (an unknown name raises at once), nameko's config dict is built
from them (ops/processes.py), and the README's configuration table is generated from them
(`python -m ops.settings --readme`; tests/unit/test_settings_registry.py fails on a stale table or on
a name the code reads that is not here).

A default is the text the environment would give; each reader parses it (int, float, a list)."""
from dataclasses import dataclass

EVERY_PART = ("services", "gateway", "palace CLI")


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    parts: tuple
    about: str
    shown: str = ""  # the default as the README says it, when the text itself would mislead
    library: str = ""  # read by this library itself, from the environment (not through config.env)

    def shown_default(self):
        if self.shown:
            return self.shown
        return f"`{self.default}`" if self.default else "unset"


def _limit(name, default, about):
    return Setting(name, default, ("gateway",), about)


REGISTRY = (
    # where everything is
    Setting("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/", EVERY_PART,
            "RabbitMQ (a cluster: each node's URI, `;`-separated; see \"Outgrowing one machine\")"),
    Setting("PALACE_PG", "postgresql://postgres@127.0.0.1:5432", EVERY_PART, "PostgreSQL server (no database name)"),
    Setting("PALACE_DB_PREFIX", "palace", EVERY_PART, "databases are `<prefix>_<part>`"),
    Setting("PALACE_PG_PASSWORDS", "", EVERY_PART,
            "a directory (compose: `/run/secrets`) holding `pg-<part>` files: each part then connects to"
            " PALACE_PG's host as its own role `<prefix>_<part>`, its database's owner, with that password"
            " (ops/postgres/10-palace-roles.sh makes them); unset, every part is PALACE_PG's user"),
    Setting("PALACE_QUORUM_QUEUES", "0", EVERY_PART,
            "`1` on a RabbitMQ cluster: the queues that must outlive a node are quorum queues (every process"
            " must agree; see \"Outgrowing one machine\")"),
    Setting("PALACE_DEVELOPMENT", "0", EVERY_PART,
            "`1` on a developer's machine (`make run` and the tests set it): the broker's and database's"
            " passwords are not checked; never in"
            " a deployment, where a part refuses a placeholder (`change-me...`) or short secret at start"),
    Setting("PALACE_LOG_FORMAT", "json", EVERY_PART, "JSON lines with the request id, or `plain`"),
    Setting("PALACE_LOG_LEVEL", "INFO", EVERY_PART, "the lowest level logged"),
    # the services (nameko)
    Setting("PALACE_MAX_WORKERS", "20", ("services",), "nameko workers at once in each service instance"),
    Setting("PALACE_DB_POOL_SIZE", "10", ("services",),
            "connections per service instance (the gateway: `PALACE_GATEWAY_DB_POOL`)"),
    Setting("PALACE_RETRY_DELAYS", "1,5,30,120,600", ("services",),
            "pauses (s) before each retry of a failed event handler"),
    Setting("PALACE_RPC_TIMEOUT", "5", ("services", "gateway"),
            "seconds before the gateway answers 503 for a silent service"),
    Setting("PALACE_METRICS_PORT", "0", ("services",), "where a service serves Prometheus metrics",
            shown="unset (`make run`: 9101...)"),
    Setting("PALACE_METRICS_HOST", "127.0.0.1", ("services",),
            "the address a service serves its metrics on (compose: `0.0.0.0`, inside its private network,"
            " no port published)"),
    Setting("PALACE_METRICS_REFRESH", "5", ("services",),
            "seconds between two readings of a service's outbox figures"),
    Setting("PALACE_ENROLMENT_TICK", "30", ("enrolment",),
            "seconds between the rounds that expire offers, draw lotteries and send reminders"),
    Setting("PALACE_REMIND_HOURS", "24", ("enrolment",), "hours before a session that its members are reminded"),
    Setting("PALACE_STRIKE_LIMIT", "3", ("enrolment",), "no-shows (strikes) that block a member from enrolling"),
    Setting("PALACE_STRIKE_BLOCK_DAYS", "30", ("enrolment",), "days such a block lasts"),
    Setting("PALACE_VENUES_SWEEP_SECONDS", "30", ("venues",), "seconds between sweeps that release no-show bookings"),
    Setting("PALACE_WELFARE_KEYS", "", ("welfare", "palace CLI"),
            "the key ring that seals welfare's private data at rest (national IDs, cases' reasons and private"
            " facts, claims' health details, documents): `id:key,id:key,...`, each key 32 random bytes in"
            " urlsafe base64, the current key first; a sealed value names its key's id. Rotate by putting a new"
            " key first, restarting welfare and running `palace welfare rotate-key` (or waiting for welfare's"
            " own rounds); drop an old key only when `palace welfare keys` shows nothing under it",
            shown="unset: welfare refuses to start (`make run` makes one in var/)"),
    Setting("PALACE_WELFARE_FINGERPRINT_KEY", "", ("welfare", "palace CLI"),
            "the key (32 random bytes, urlsafe base64) of the keyed fingerprint (HMAC-SHA256) that matches a"
            " national ID across rosters without decrypting it; not rotated with the ring",
            shown="unset: welfare refuses to start (`make run` makes one in var/)"),
    Setting("PALACE_WELFARE_RESEAL_SECONDS", "60", ("welfare",),
            "seconds between welfare's rounds that reseal rows still under an older key of the ring (or from"
            " before sealing) under the current one"),
    Setting("PALACE_WELFARE_RESEAL_BATCH", "200", ("welfare", "palace CLI"),
            "rows one resealing round (or one step of `palace welfare rotate-key`) seals at most (documents:"
            " a tenth of it), each in its own short transaction"),
    Setting("PALACE_CONTEXT_KEY", "", ("services", "gateway"),
            "the key (32+ random characters) that signs every RPC's caller and every event; the same in the"
            " gateway and every service, nowhere else; unsigned, tampered or stale calls and events are"
            " refused (`make run` and the tests make one per run)", shown="unset: the part refuses to start"),
    Setting("PALACE_RESET_CODE_KEY", "", ("gateway", "notify"),
            "the Fernet key (32 random bytes, urlsafe base64) with which the gateway seals a reset code for"
            " notify; only those two hold it, so no event, outbox, log or dead letter shows a code",
            shown="unset: the gateway does not start"),
    Setting("PALACE_WELFARE_SLA_CHECK", "60", ("welfare",), "seconds between checks for overdue cases to escalate"),
    Setting("PALACE_WELFARE_SLA_WARNING", "0.75", ("welfare",),
            "the share of a programme's time limit after which a waiting case's officer and the admins are told"
            " it is nearly due (once per wait; past the limit they are told again)"),
    Setting("PALACE_WELFARE_IMPORT_POLL", "0.5", ("welfare",), "seconds between looks for a waiting import job"),
    Setting("PALACE_NOTIFY_SMS_URL", "", ("notify",),
            "Aliyun SMS (Dysms) endpoint, e.g. `https://dysmsapi.aliyuncs.com/` (unset: that channel is off;"
            " the inbox always works)"),
    Setting("PALACE_NOTIFY_SMS_KEY_ID", "", ("notify",), "the AccessKey ID of the Aliyun SMS account"),
    Setting("PALACE_NOTIFY_SMS_KEY_SECRET", "", ("notify",),
            "its AccessKey secret (give it as `PALACE_NOTIFY_SMS_KEY_SECRET_FILE`, a docker secret)"),
    Setting("PALACE_NOTIFY_SMS_SIGN_NAME", "", ("notify",), "the approved sign name (签名) SMS go out under"),
    Setting("PALACE_NOTIFY_SMS_TEMPLATES", "", ("notify",),
            "`NAME=CODE,...`: the template code Aliyun approved for each of palace's SMS templates"
            " (`SMS_PALACE_ENROL_OK=SMS_465890123`; names in services/notify/templates.py); a message whose"
            " template has no code fails over to the member's next channel"),
    Setting("PALACE_NOTIFY_WECHAT_URL", "", ("notify",),
            "the WeChat API, `https://api.weixin.qq.com` (unset: WeChat messages are off)"),
    Setting("PALACE_NOTIFY_WECHAT_APP_ID", "", ("notify",), "the app id of the palace's official account"),
    Setting("PALACE_NOTIFY_WECHAT_APP_SECRET", "", ("notify",),
            "its app secret (give it as `PALACE_NOTIFY_WECHAT_APP_SECRET_FILE`, a docker secret)"),
    Setting("PALACE_NOTIFY_WECHAT_AUTHORIZE_URL", "https://open.weixin.qq.com/connect/oauth2/authorize",
            ("notify",), "where a member's browser is sent to let the official account know their openid"
            " (WeChat's web authorization, `snsapi_base`)"),
    Setting("PALACE_NOTIFY_WECHAT_CALLBACK_URL", "", ("notify",),
            "the address WeChat sends the member back to, as registered with the official account"
            " (`https://palace.example.org/v1/wechat/callback`; unset: the gateway's own address as the"
            " request reached it)"),
    Setting("PALACE_NOTIFY_WECHAT_STATE_SECONDS", "600", ("notify",),
            "seconds a WeChat binding the member started may take to come back (its `state` then lapses)"),
    Setting("PALACE_NOTIFY_WECHAT_TEMPLATES", "", ("notify",),
            "`NAME=ID,...`: the template id the account added each of palace's WeChat templates under"
            " (`WX_PALACE_ENROL_OK=...`; keywords `thing1`, `thing2`..., `character_string` for codes); a"
            " message whose template has no id fails over to the member's next channel"),
    Setting("PALACE_NOTIFY_SMTP", "", ("notify",), "`host:port` of the mail relay (unset: mail is off)"),
    Setting("PALACE_NOTIFY_SMTP_SECURITY", "starttls", ("notify",),
            "`starttls` (the relay must offer it), `ssl` (implicit TLS, port 465) or `none` (a relay on this"
            " machine only)"),
    Setting("PALACE_NOTIFY_SMTP_USER", "", ("notify",), "the login at the relay (unset: no login)"),
    Setting("PALACE_NOTIFY_SMTP_PASSWORD", "", ("notify",),
            "its password (give it as `PALACE_NOTIFY_SMTP_PASSWORD_FILE`, a docker secret)"),
    Setting("PALACE_NOTIFY_SMTP_CA", "", ("notify",),
            "a CA bundle the relay's certificate must chain to (unset: the system's CAs)"),
    Setting("PALACE_NOTIFY_MAIL_FROM", "palace@localhost", ("notify",), "the sender of palace's mail"),
    Setting("PALACE_NOTIFY_HTTP_TIMEOUT", "5", ("notify",), "seconds a delivery provider has to answer"),
    Setting("PALACE_NOTIFY_BACKOFF", "5,900", ("notify",),
            "`base,ceiling` seconds of the retry backoff of one channel"),
    Setting("PALACE_NOTIFY_MAX_ATTEMPTS", "6", ("notify",), "attempts of a delivery before it is given up"),
    Setting("PALACE_NOTIFY_REMINDER_LEAD_MINUTES", "1440", ("notify",), "minutes before a class its reminder goes"),
    Setting("PALACE_NOTIFY_QUIET_HOURS", "22:00-08:00", ("notify",),
            "the quiet hours (Asia/Shanghai) of a member who has not chosen their own, or `off`; routine"
            " messages outside the app wait for the morning"),
    Setting("PALACE_NOTIFY_POLL", "0.5", ("notify",), "seconds between looks for deliveries that are due"),
    Setting("PALACE_NOTIFY_RATES", "sms=20,wechat=50,email=10", ("notify",),
            "most sends a second per channel of each notify instance (`channel=rate,...`), so a broadcast does"
            " not flood a provider; a channel not named is not paced"),
    Setting("PALACE_NOTIFY_MEMBER_GAP", "60", ("notify",),
            "fewest seconds between two messages outside the app to one member (urgent ones go at once), so"
            " a burst of events does not buzz a phone or meet the SMS provider's per-number limit; 0: none"),
    Setting("PALACE_NOTIFY_LEASE", "60", ("notify",),
            "seconds a sender holds a delivery before another may take it over"),
    # the gateway
    Setting("PALACE_HTTP_HOST", "127.0.0.1", ("gateway",), "the address the gateway listens on"),
    Setting("PALACE_PUBLIC_URL", "", ("gateway",),
            "the address people reach the palace at (`https://palace.example.org`); a problem's `type` is a page"
            " under it (`/problems/<slug>`), the same whichever host or proxy a request came through",
            shown="unset: the scheme and host each request came to"),
    Setting("PALACE_HTTP_PORT", "8000", ("gateway", "make run"), "the port the gateway listens on"),
    Setting("PALACE_GATEWAY_WORKERS", "2", ("gateway",), "gunicorn processes"),
    Setting("PALACE_GATEWAY_THREADS", "16", ("gateway",), "threads in each gunicorn process"),
    Setting("PALACE_GATEWAY_DB_POOL", "16", ("gateway",), "connections of each gateway process's pool"),
    Setting("PALACE_WEB_ROOT", "", ("gateway",),
            "the built web apps the gateway serves at `/` (the image: `/app/web/dist`)",
            shown="`web/dist` beside the gateway package"),
    Setting("PALACE_ADMIN_PHONE", "", ("gateway",),
            "with `PALACE_ADMIN_PASSWORD`: the gateway makes sure this admin exists"),
    Setting("PALACE_ADMIN_PASSWORD", "", ("gateway",), "the password of that admin"),
    Setting("PALACE_TOKEN_SECRET", "", ("gateway",),
            "key that signs access tokens (15 min, void within 2 s of a password change or reset; refresh"
            " tokens 30 days, rotated, and a replayed one ends its whole chain); the key of the hashes kept of"
            " requests under an Idempotency-Key is made from it (a new one makes a retry of an older key a 422)",
            shown="made once, kept in the gateway database"),
    Setting("PALACE_TOKEN_ISSUER", "palace-gateway", ("gateway",),
            "the `iss` of access tokens, checked on every request"),
    Setting("PALACE_TOKEN_AUDIENCE", "palace-api", ("gateway",), "the `aud` of access tokens, checked on every request"),
    Setting("PALACE_PASSWORD_HASHING", "standard", ("gateway",),
            "`cheapest` only for test and benchmark stacks (argon2-cffi's cheapest profile; the gateway logs a"
            " warning): never in production"),
    Setting("PALACE_ARGON2_SLOTS", "2", ("gateway",), "argon2 hashes at once per gateway process (64 MiB each)"),
    Setting("PALACE_ARGON2_WAIT", "10", ("gateway",),
            "seconds a request waits for an argon2 slot before a 503 with Retry-After"),
    Setting("PALACE_BREAKER_SECONDS", "5", ("gateway",),
            "seconds the gateway answers 503 at once for a service that timed out three times in a row"),
    Setting("PALACE_CATALOG_CACHE_SECONDS", "0.25", ("gateway",),
            "seconds each gateway process keeps a catalog answer it built"),
    Setting("PALACE_METRICS_TOKEN", "", ("gateway", "make run"),
            "the bearer token (32+ random characters) that ops and Prometheus present to read the gateway's"
            " `/metrics` and which part `/readyz` finds not ready (give it as `PALACE_METRICS_TOKEN_FILE`, a"
            " docker secret); anyone else finds no `/metrics` (404) and reads only `/readyz`'s status",
            shown="unset: `/metrics` answers no one (`make run` makes one and prints it)"),
    Setting("PALACE_TRUSTED_PROXIES", "", ("gateway",),
            "addresses or CIDR networks of the reverse proxies in front of the gateway; only from these are"
            " `Forwarded` / `X-Forwarded-For` believed (the rightmost address no trusted proxy holds is the"
            " client). Empty: the peer is the client, so set it when a proxy sits in front, or everyone behind"
            " it shares one address's limits", shown="empty"),
    _limit("PALACE_SIGNIN_PHONE_LIMIT", "5/900",
           "failed sign-ins per phone per window (hits/seconds); counted before the password is checked, so"
           " parallel guesses cannot pass it; a password reset lifts it"),
    _limit("PALACE_SIGNIN_ADDRESS_LIMIT", "30/900", "failed sign-ins per address per window, likewise"),
    _limit("PALACE_REGISTER_ADDRESS_LIMIT", "10/3600", "registrations per address per window"),
    _limit("PALACE_RESET_PHONE_LIMIT", "3/3600", "reset-code requests per phone per window"),
    _limit("PALACE_RESET_ADDRESS_LIMIT", "10/3600", "reset-code requests per address per window"),
    _limit("PALACE_RESET_GLOBAL_LIMIT", "300/3600", "reset-code requests for the whole palace per window"),
    _limit("PALACE_RESET_CONFIRM_PHONE_LIMIT", "10/3600",
           "reset-code confirmations per phone per window (each code also allows 5 guesses)"),
    _limit("PALACE_RESET_CONFIRM_ADDRESS_LIMIT", "30/3600", "reset-code confirmations per address per window"),
    _limit("PALACE_RESET_CONFIRM_GLOBAL_LIMIT", "1000/3600",
           "reset-code confirmations for the whole palace per window"),
    _limit("PALACE_ENROL_LIMIT", "10/60",
           "enrolment requests per member per window; one Idempotency-Key counts once (its replays and its"
           " retries after a 503 do not count again)"),
    _limit("PALACE_CHECKIN_CODE_LIMIT", "5/900", "wrong check-in codes per member and session per window"),
    Setting("PALACE_RETENTION_SWEEP", "3600", ("services", "gateway"),
            "seconds between each part's sweeps of its old delivery records (see the next settings)"),
    Setting("PALACE_RETENTION_BATCH", "1000", ("services", "gateway"),
            "rows a retention sweep deletes per transaction (up to 100 batches a table per sweep)"),
    Setting("PALACE_RETAIN_EVENTS_DAYS", "30", ("services", "gateway"),
            "days an outbox row is kept after it was sent, and a consumer's record of a handled event"),
    Setting("PALACE_RETAIN_DELIVERIES_DAYS", "90", ("notify",),
            "days a finished delivery (sent, failed or skipped; its message and address) is kept"),
    Setting("PALACE_RETAIN_IDEMPOTENCY_DAYS", "2", ("gateway",),
            "days an Idempotency-Key is kept (a retry after that runs as a new request)"),
    Setting("PALACE_RATE_LIMIT_SWEEP", "300", ("gateway",),
            "seconds between the gateway-feed's sweeps of rate-limit windows that have ended"),
    # the palace command and `make run`
    Setting("PALACE_NEW_ADMIN_PASSWORD", "", ("palace CLI",),
            "the password `palace create-admin` gives (unset: it asks for one)"),
    Setting("PALACE_BACKUP_DIR", "backups", ("palace CLI",), "where `palace backup` writes, unless `--to` says"),
    Setting("PALACE_PG_BIN", "", ("palace CLI",),
            "the directory of pg_dump and pg_restore of the server's major version (unset: Debian's"
            " `/usr/lib/postgresql/<major>/bin`, then the PATH)"),
    Setting("PALACE_RABBIT_API_PORT", "15672", ("make run",),
            "port of RabbitMQ's management API, which the preflight checks ask"),
    Setting("PALACE_METRICS_BASE", "9100", ("make run",),
            "`make run` gives its services metrics ports from this one up (9101, 9102...)"),
    # read by libraries, set by palace
    Setting("PSYCOPG_WAIT_FUNC", "", ("services",),
            "set to `wait_selector` for the nameko processes (ops/processes.py), so a query waits in eventlet's"
            " hub instead of blocking every worker", library="psycopg"),
    Setting("PROMETHEUS_MULTIPROC_DIR", "", ("gateway",),
            "where the gateway's processes write their metrics for /metrics to add up",
            shown="a temporary directory, removed at exit", library="prometheus_client"),
)

BY_NAME = {setting.name: setting for setting in REGISTRY}


def lookup(name):
    """The registered setting; an unregistered name is a mistake in the code, so it raises at once."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name} is not a registered setting: add it to services/common/settings.py") from None
