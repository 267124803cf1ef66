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
    Setting("PALACE_QUORUM_QUEUES", "0", EVERY_PART,
            "`1` on a RabbitMQ cluster: the queues that must outlive a node are quorum queues (every process"
            " must agree; see \"Outgrowing one machine\")"),
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
    Setting("PALACE_METRICS_HOST", "127.0.0.1", ("services",), "the address a service serves its metrics on"),
    Setting("PALACE_METRICS_REFRESH", "5", ("services",),
            "seconds between two readings of a service's outbox figures"),
    Setting("PALACE_ENROLMENT_TICK", "30", ("enrolment",),
            "seconds between the rounds that expire offers, draw lotteries and send reminders"),
    Setting("PALACE_REMIND_HOURS", "24", ("enrolment",), "hours before a session that its members are reminded"),
    Setting("PALACE_STRIKE_LIMIT", "3", ("enrolment",), "no-shows (strikes) that block a member from enrolling"),
    Setting("PALACE_STRIKE_BLOCK_DAYS", "30", ("enrolment",), "days such a block lasts"),
    Setting("PALACE_VENUES_SWEEP_SECONDS", "30", ("venues",), "seconds between sweeps that release no-show bookings"),
    Setting("PALACE_WELFARE_KEY", "", ("welfare",),
            "the key (32 bytes, urlsafe base64) that seals national ID numbers at rest; unset, a development"
            " key is made once and kept in the welfare database (logged as a warning: never in production)"),
    Setting("PALACE_WELFARE_SLA_CHECK", "60", ("welfare",), "seconds between checks for overdue cases to escalate"),
    Setting("PALACE_WELFARE_IMPORT_POLL", "0.5", ("welfare",), "seconds between looks for a waiting import job"),
    Setting("PALACE_NOTIFY_SMS_URL", "", ("notify",),
            "SMS delivery provider (unset: that channel is off; the inbox always works)"),
    Setting("PALACE_NOTIFY_WECHAT_URL", "", ("notify",), "WeChat delivery provider (unset: off)"),
    Setting("PALACE_NOTIFY_SMTP", "", ("notify",), "`host:port` of the mail relay (unset: mail is off)"),
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
    Setting("PALACE_NOTIFY_LEASE", "60", ("notify",),
            "seconds a sender holds a delivery before another may take it over"),
    # the gateway
    Setting("PALACE_HTTP_HOST", "127.0.0.1", ("gateway",), "the address the gateway listens on"),
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
            " tokens 30 days, rotated, and a replayed one ends its whole chain)",
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
