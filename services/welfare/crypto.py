"""Welfare's private data at rest (national ID numbers, cases' reasons and private facts, claims'
health details, the files of cases and claims): AES-GCM under a versioned key ring.

PALACE_WELFARE_KEYS holds the ring, `id:key,id:key,...` (each key 32 random bytes, urlsafe base64;
an id is 1-32 letters, digits, `-` or `_`); the first is the current key. Every sealed value
starts with its format version and the id of the key that sealed it, so a read picks its key by id
and a value sealed under a key the ring no longer holds fails with that id named. Rotating means
putting a new key first (the old ones stay until `palace welfare rotate-key` or welfare's own
background round has resealed every row under the new one; `palace welfare keys` counts them).

National IDs are also matched (the same person on two rosters) by a keyed fingerprint, an HMAC
under PALACE_WELFARE_FINGERPRINT_KEY: a key of its own, so rotating the ring does not move them,
and a copy of the database alone cannot test a guessed ID (birth date + region + 4 digits) against it.

There is no key kept beside the data and no generated fallback: welfare does not start without a
ring (`make run` makes a development one, kept under var/)."""
import base64
import functools
import hashlib
import hmac
import json
import os
import re

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.common import config
from services.common.errors import Unavailable

FORMAT = 1  # the first byte of every sealed value: version, key id length, key id, nonce, ciphertext
NONCE = 12
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
FINGERPRINT_PREFIX = "fp1:"  # a fingerprint under PALACE_WELFARE_FINGERPRINT_KEY (older ones: bare hex)


def unknown_key(detail):
    """A value sealed under a key id the ring does not hold (or not sealed at all): the row stays
    unreadable (503, `welfare-key-missing`, the id named) until that key is back in the ring. A
    plain Unavailable, which crosses RPC to the gateway as it is."""
    return Unavailable(detail, "welfare-key-missing")


KEY_ADVICE = ("32 random bytes in urlsafe base64 (python -c 'import base64,os;"
              "print(base64.urlsafe_b64encode(os.urandom(32)).decode())')")


def _key_bytes(text, what):
    config.checked_secret(what, text, 44, KEY_ADVICE)  # a placeholder or short: the one check of every secret
    try:
        key = base64.urlsafe_b64decode(text.encode())
    except (ValueError, TypeError):
        key = b""
    if len(key) != 32:
        raise RuntimeError(f"{what} must be {KEY_ADVICE}")
    return key


def parse_ring(text):
    """[(key id, key bytes)], current first, from `id:key,id:key`; RuntimeError says what is wrong."""
    ring = []
    for item in (text or "").split(","):
        if not item.strip():
            continue
        kid, _, key = item.strip().partition(":")
        if not KEY_ID.match(kid) or not key:
            raise RuntimeError("PALACE_WELFARE_KEYS must be `id:key,id:key,...` (the current key first; an id is"
                               " 1-32 letters, digits, - or _)")
        if kid in dict(ring):
            raise RuntimeError(f"PALACE_WELFARE_KEYS names key {kid!r} twice")
        ring.append((kid, _key_bytes(key, f"PALACE_WELFARE_KEYS key {kid!r}")))
    if not ring:
        raise RuntimeError("PALACE_WELFARE_KEYS is not set: welfare seals its members' private data with it and does"
                           " not start without it (`id:key`, e.g. 2026a:<32 random bytes, urlsafe base64>)")
    return ring


def new_key():
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


class KeyRing:
    def __init__(self, ring, fingerprint_key):
        self.current = ring[0][0]
        self._aeads = {kid: AESGCM(key) for kid, key in ring}
        self._head = bytes([FORMAT, len(self.current)]) + self.current.encode()
        self._fingerprint_key = fingerprint_key

    @property
    def ids(self):
        return tuple(self._aeads)

    def seal(self, data: bytes) -> bytes:
        nonce = os.urandom(NONCE)
        return self._head + nonce + self._aeads[self.current].encrypt(nonce, data, None)

    def open(self, blob) -> bytes:
        blob = bytes(blob)
        kid = key_id(blob)
        if kid not in self._aeads:
            raise unknown_key(f"a value sealed under welfare key {kid!r}, which PALACE_WELFARE_KEYS does not hold")
        start = 2 + len(kid)
        return self._aeads[kid].decrypt(blob[start:start + NONCE], blob[start + NONCE:], None)

    def seal_text(self, text):
        return self.seal(text.encode())

    def seal_json(self, value):
        return self.seal(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())

    def open_json(self, blob):
        return None if blob is None else json.loads(self.open(blob))

    def fingerprint(self, national_id: str) -> str:
        return FINGERPRINT_PREFIX + hmac.new(self._fingerprint_key, national_id.encode(), hashlib.sha256).hexdigest()


def key_id(blob) -> str:
    """The id of the key a value was sealed under (read from its head, no key needed)."""
    blob = bytes(blob)
    if len(blob) < 2 or blob[0] != FORMAT or len(blob) < 2 + blob[1] + NONCE:
        raise unknown_key("a value that is not sealed in welfare's format")
    return blob[2:2 + blob[1]].decode("ascii", "replace")


@functools.lru_cache(maxsize=4)
def _ring(keys, fingerprint_key):
    return KeyRing(parse_ring(keys), _key_bytes(fingerprint_key, "PALACE_WELFARE_FINGERPRINT_KEY"))


def ring():
    """The ring welfare (and `palace welfare rotate-key`) works with, from the environment (read once
    per value: a process changes keys by restarting); RuntimeError, with the reason, without one."""
    return _ring(config.env("PALACE_WELFARE_KEYS"), config.env("PALACE_WELFARE_FINGERPRINT_KEY"))
