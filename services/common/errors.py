"""Errors a service raises on purpose. They cross RPC intact (registered with nameko), so the
gateway can map each one to its HTTP status and problem type."""
from nameko.exceptions import deserialize_to_instance


class PalaceError(Exception):
    status = 500
    problem = "internal"

    def __init__(self, detail, problem=None, errors=None):
        # args travel over RPC as JSON, so keep them strings and dicts (never None)
        problem, errors = problem or self.problem, errors or {}
        super().__init__(detail, problem, errors)
        self.detail, self.problem, self.errors = detail, problem, errors


@deserialize_to_instance
class NotFound(PalaceError):
    status, problem = 404, "not-found"


@deserialize_to_instance
class Conflict(PalaceError):
    status, problem = 409, "conflict"


@deserialize_to_instance
class Invalid(PalaceError):
    """Bad input: `errors` maps each field to its reasons."""
    status, problem = 422, "validation-failed"


@deserialize_to_instance
class Unauthorized(PalaceError):
    """No one is signed in, and this needs someone who is."""
    status, problem = 401, "unauthenticated"


@deserialize_to_instance
class Forbidden(PalaceError):
    status, problem = 403, "forbidden"


@deserialize_to_instance
class PayloadTooLarge(PalaceError):
    status, problem = 413, "payload-too-large"


@deserialize_to_instance
class UnsupportedMediaType(PalaceError):
    status, problem = 415, "unsupported-media-type"


@deserialize_to_instance
class PreconditionFailed(PalaceError):
    """The caller changes what they read, and it has changed since (If-Match named an older version)."""
    status, problem = 412, "precondition-failed"


@deserialize_to_instance
class PreconditionRequired(PalaceError):
    """A change to a versioned thing must name the version it was made to (If-Match), and this one
    named none: without it, two editors' changes would overwrite each other unseen."""
    status, problem = 428, "precondition-required"


@deserialize_to_instance
class Unavailable(PalaceError):
    """Something the service needs (its database, another service) is away for now: the caller may
    retry."""
    status, problem = 503, "service-unavailable"


@deserialize_to_instance
class BadGateway(PalaceError):
    """A provider the service asked on the caller's behalf (WeChat) refused or answered nonsense."""
    status, problem = 502, "bad-gateway"


EXPECTED = (NotFound, Conflict, Invalid, Unauthorized, Forbidden, PayloadTooLarge, UnsupportedMediaType,
            PreconditionFailed, PreconditionRequired, Unavailable, BadGateway)
