"""Idempotency-Key on creates: the same key and body replays the stored answer, the same key
with another body is a 422, and a key whose first request is still running is a 409.

A route whose answer holds private facts (a welfare case, a claim, a document, a payout, counselling
sessions, an account's name and phone) passes `reread`:
the key then keeps only a reference to what was made (its id), never the answer, and a replay
re-reads the thing as the caller may see it now (the same status and id).

The key also keeps a hash of its request, to tell a retry from another request under the same key.
That hash is keyed (HMAC, with a key made from the token secret): a plain hash of a welfare
application's body would let whoever holds a copy of the gateway database confirm a guess at its
private facts by hashing candidates; without the gateway's key they cannot."""
import hashlib
import hmac
import json
import logging
import time

import falcon
from psycopg.types.json import Jsonb

from gateway.problems import Problem
from services.common import config
from services.common.errors import PalaceError, Unavailable

log = logging.getLogger("palace.gateway.idempotency")

# longer than any request can take (gunicorn kills a request after 30 s)
ABANDONED_AFTER = max(60, 2 * config.rpc_timeout())
PAUSES = (0.25, 0.5, 1.0, 2.0)  # seconds between tries of the key's own bookkeeping
REFERENCE = "reference_id"  # the stored body of a `reread` route: {REFERENCE: id of what was made}


def request_key(token_secret):
    """The key of request hashes: made from the token secret (which only the gateway holds, and which
    compose requires from outside the database), separate from the token key it is made from."""
    return hmac.new(token_secret.encode(), b"palace idempotency request hash", hashlib.sha256).digest()


def request_fingerprint(key, method, path, body):
    return hmac.new(key, _request(method, path, body), hashlib.sha256).hexdigest()


def _unkeyed_fingerprint(method, path, body):
    """How keys were hashed before request hashes were keyed: still accepted, so a retry of a key
    claimed before the change replays. PALACE_RETAIN_IDEMPOTENCY_DAYS after the change no such key is
    left, and this can go."""
    return hashlib.sha256(_request(method, path, body)).hexdigest()


def _request(method, path, body):
    return json.dumps([method, path, body], sort_keys=True, default=str).encode()


def run_once(gateway, req, resp, body, create, first=None, reread=None):
    """Answer `create(key) -> (status, document)` once per (caller, Idempotency-Key). `first(conn)`
    (a rate limit) runs in the transaction that claims the key, and only when the key is new: a
    replay, or a retry of an attempt that failed on our side, is the same request, not another.
    `reread(id) -> document`: keep only the id of what was made, and replay by re-reading it."""
    db = gateway.db
    key = req.get_header("Idempotency-Key")
    if key is None:
        if first is not None:
            with db.transaction() as conn:
                first(conn)
        resp.status, resp.media = create(None)
        return
    if not 1 <= len(key) <= 255:
        raise Problem(422, "validation-failed", "bad Idempotency-Key header",
                      {"Idempotency-Key": ["must be 1 to 255 characters"]})
    account_id = req.context.account.id
    fingerprint = request_fingerprint(gateway.request_key, req.method, req.path, body)
    fingerprints = (fingerprint, _unkeyed_fingerprint(req.method, req.path, body))
    with db.transaction() as conn:
        claim = _claim(conn, account_id, key, fingerprints)
        if claim is not None and claim["tries"] == 1 and first is not None:
            first(conn)  # a 429 rolls the claim back with it
        earlier = None if claim else conn.execute(
            "SELECT request_hash, status, body FROM idempotency_keys WHERE account_id = %s AND key = %s",
            (account_id, key)).fetchone()
    if earlier is not None:
        _replay(resp, earlier, fingerprints, reread)
        return
    try:
        status, document = create(key)
    except BaseException as exc:
        _unclaim(db, account_id, key, exc)
        raise
    try:
        _persist(db, "UPDATE idempotency_keys SET status = %s, body = %s WHERE account_id = %s AND key = %s",
                 (status, Jsonb(document if reread is None else {REFERENCE: _reference(document)}), account_id, key))
    except Unavailable:  # it was done: say so; a retry waits out the claim, then the service replays it
        log.warning("the answer to Idempotency-Key %r could not be stored; answering it unstored", key)
    resp.status, resp.media = status, document


def _claim(conn, account_id, key, fingerprints):
    """Claim the key: a new row (tries 1), or the same request taking over a claim that was released
    after failing, or abandoned long ago by a gateway that died mid-request (tries > 1; its hash is
    then the keyed one, whichever it was). None when the key is answered, still running, or was
    used with another body. `fingerprints`: the request's keyed hash, then its unkeyed one."""
    return conn.execute(
        "INSERT INTO idempotency_keys (account_id, key, request_hash) VALUES (%s, %s, %s)"
        " ON CONFLICT (account_id, key) DO UPDATE"
        " SET created_at = now(), released = false, tries = idempotency_keys.tries + 1,"
        "     request_hash = excluded.request_hash"
        " WHERE idempotency_keys.status IS NULL AND idempotency_keys.request_hash IN (%s, %s)"
        " AND (idempotency_keys.released"
        "      OR idempotency_keys.created_at < now() - make_interval(secs => %s))"
        " RETURNING tries", (account_id, key, fingerprints[0], *fingerprints, ABANDONED_AFTER)).fetchone()


def _unclaim(db, account_id, key, exc):
    """Nothing was answered, so a retry must run the request again. After a refusal (4xx: invalid,
    full, not open yet) the member may send a corrected body with the same key, and a retry is a
    new try for the rate limit: the claim goes. After a failure on our side (a 503 through a restart)
    the claim stays, released: the phone's retries take it over without counting again."""
    if 400 <= _status(exc) < 500:
        _persist(db, "DELETE FROM idempotency_keys WHERE account_id = %s AND key = %s", (account_id, key))
    else:
        _persist(db, "UPDATE idempotency_keys SET released = true WHERE account_id = %s AND key = %s"
                 " AND status IS NULL", (account_id, key))


def _status(exc):
    if isinstance(exc, PalaceError):
        return exc.status
    return int(exc.status_code) if isinstance(exc, falcon.HTTPError) else 500


def _persist(db, sql, params, pauses=PAUSES):
    """Write the key's bookkeeping through a database blip (a restart takes a second or two): a
    claim left unanswered would hold the member's retries at 409 until it is abandoned."""
    for pause in (*pauses, None):
        try:
            with db.autocommit() as conn:
                conn.execute(sql, params)
            return
        except Unavailable:
            if pause is None:
                raise
            time.sleep(pause)


def _reference(document):
    """What a `reread` route keeps: the id of what was made (of each, for a list)."""
    if isinstance(document, list):
        return [str(d["id"]) for d in document]
    return str(document["id"])


def _replay(resp, earlier, fingerprints, reread=None):
    if not any(hmac.compare_digest(earlier["request_hash"], f) for f in fingerprints):
        raise Problem(422, "idempotency-key-reused",
                      "this Idempotency-Key was used for a different request",
                      {"Idempotency-Key": ["was used with another body or path"]})
    if earlier["status"] is None:
        raise Problem(409, "request-in-progress", "the first request with this Idempotency-Key is still running",
                      headers={"Retry-After": "1"})
    body = earlier["body"]
    if reread is not None and isinstance(body, dict) and set(body) == {REFERENCE}:
        body = reread(body[REFERENCE])
    resp.status, resp.media = earlier["status"], body
    resp.set_header("Idempotent-Replayed", "true")
