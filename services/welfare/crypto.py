"""National ID numbers at rest: AES-GCM under a key from the environment (PALACE_WELFARE_KEY,
32 bytes in urlsafe base64), or, on a developer's machine, a key generated once and kept in the
welfare database's settings (logged as a warning: never do that in production).
A keyed hash (HMAC-SHA256) finds the same person again without decrypting."""
import base64
import hashlib
import hmac
import logging
import os
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.common import config

log = logging.getLogger(__name__)


class Sealer:
    def __init__(self, key: bytes):
        if len(key) != 32:
            raise ValueError("the welfare key must be 32 bytes")
        self._aead = AESGCM(key)
        self._mac_key = hashlib.sha256(b"palace-welfare-lookup" + key).digest()

    def seal(self, text: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, text.encode(), None)

    def open(self, blob: bytes) -> str:
        blob = bytes(blob)
        return self._aead.decrypt(blob[:12], blob[12:], None).decode()

    def digest(self, text: str) -> str:
        return hmac.new(self._mac_key, text.encode(), hashlib.sha256).hexdigest()


def key_from_env():
    value = config.env("PALACE_WELFARE_KEY")
    return base64.urlsafe_b64decode(value.encode()) if value else None


def dev_key(conn):
    """The generated development key, made once per database."""
    log.warning("PALACE_WELFARE_KEY is not set: using a generated development key kept in the database")
    conn.execute("INSERT INTO settings (name, value) VALUES ('dev_key', %s) ON CONFLICT DO NOTHING",
                 (base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),))
    value = conn.execute("SELECT value FROM settings WHERE name = 'dev_key'").fetchone()["value"]
    return base64.urlsafe_b64decode(value.encode())
