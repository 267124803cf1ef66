"""Who is calling: the gateway signs the caller and the request id into the RPC context
(services/common/trust.py); only a context whose signature holds names a caller."""
from dataclasses import dataclass

from nameko.extensions import DependencyProvider

from services.common import logs, trust
from services.common.errors import Forbidden, Unauthorized
from services.common.rpc import Rpc


@dataclass(frozen=True)
class Caller:
    id: str | None
    roles: frozenset
    unit: str | None
    request_id: str | None
    idempotency_key: str | None
    birth_date: str | None = None  # ISO date, from the account
    service: str | None = None  # the part that signed the call: "gateway", a service, "ops"

    def has(self, *roles):
        return bool(self.roles.intersection(roles))

    def require(self, *roles):
        """The caller's id, when someone is signed in and (if `roles` are named) holds one of them;
        else Unauthorized (401) or Forbidden (403). The gateway's routes and the services guard alike."""
        if not self.id:
            raise Unauthorized("sign in first: send an Authorization: Bearer token")
        if roles and not self.has(*roles):
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")
        return self.id

    @classmethod
    def from_context(cls, data, admitted=False):
        """The caller a signed context names; no one (all None) for an unsigned, tampered or stale one.
        `admitted`: an RPC's, whose context its entrypoint checked before the worker started (it
        refuses the others); a timer's or an event handler's is checked here, and names no one."""
        if not admitted:
            try:
                data = trust.verify(data)
            except Unauthorized:
                return cls(None, frozenset(), None, None, None)
        roles = data.get("caller_roles") or ""
        return cls(
            id=data.get("caller_id") or None,
            roles=frozenset(r for r in roles.split(",") if r),
            unit=data.get("caller_unit") or None,
            request_id=data.get("request_id") or None,
            idempotency_key=data.get("idempotency_key") or None,
            birth_date=data.get("caller_birth_date") or None,
            service=data.get(trust.SIGNED_BY) or None,
        )

    def to_context(self):
        """The caller fields, unsigned: the part that calls signs them (trust.sign)."""
        return {
            "caller_id": self.id or "",
            "caller_roles": ",".join(sorted(self.roles)),
            "caller_unit": self.unit or "",
            "request_id": self.request_id or "",
            "idempotency_key": self.idempotency_key or "",
            "caller_birth_date": self.birth_date or "",
        }


class CallerProvider(DependencyProvider):
    def worker_setup(self, worker_ctx):
        logs.enter(worker_ctx)

    def get_dependency(self, worker_ctx):
        return Caller.from_context(worker_ctx.data, admitted=isinstance(worker_ctx.entrypoint, Rpc))
