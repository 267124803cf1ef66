"""What only ops may read through the public port: /metrics and the detail of /readyz.

A caller is ops when it presents the metrics token (`Authorization: Bearer <PALACE_METRICS_TOKEN>`,
Prometheus's `authorization.credentials_file` in the compose monitoring profile). There is no list of
internal addresses: behind docker's published port (its userland proxy) or a reverse proxy, a stranger's
request arrives from an address inside the private network, so an address proves nothing here.
Unset, nobody is ops: /metrics is not there and /readyz says only whether the palace is ready."""
import hmac

import falcon

from services.common import config

PATHS = ("/metrics", "/readyz")  # their Authorization is the metrics token, never an access token
MINIMUM = 32


def metrics_token():
    """PALACE_METRICS_TOKEN, passed through the one check of every secret; None when unset."""
    token = config.env("PALACE_METRICS_TOKEN")
    if not token:
        return None
    return config.checked_secret("PALACE_METRICS_TOKEN", token, MINIMUM,
                                 "(python -m ops.compose_secrets makes one), or unset")


def is_ops(req, token):
    """Whether the request presents the metrics token (compared in constant time)."""
    scheme, _, given = (req.get_header("Authorization") or "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def only_ops(req, token):
    """Anyone else is told what an unknown path tells them: nothing is here."""
    if not is_ops(req, token):
        raise falcon.HTTPRouteNotFound()
