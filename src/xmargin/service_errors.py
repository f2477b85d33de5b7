"""Errors of the service, its store and its requests, part of the one exception tree of
:mod:`xmargin.errors` (which re-exports them; import them from there)::

    XmarginError
      PermissionDenied                  permission_denied
        NotAuthenticated                not_authenticated
          TooManyFailedAuthentications  too_many_failed_authentications
      RequestError (service requests)
        MalformedRequest                malformed_request
        InvalidRequest(.problems)       invalid_request
        IdempotencyConflict             idempotency_key_reused
        BodyTooLarge                    body_too_large
        RequestTimeout                  request_timeout
      StoreError                        store_error
        DatabaseInUse                   store_error (the writer lock is held)
        JournalMismatch                 journal_mismatch
      StartupError                      cannot_start
"""

from __future__ import annotations

from xmargin.errors import ListsProblems, Problem, XmarginError, _listed

__all__ = [
    "BodyTooLarge",
    "DatabaseInUse",
    "IdempotencyConflict",
    "InvalidRequest",
    "JournalMismatch",
    "MalformedRequest",
    "NotAuthenticated",
    "PermissionDenied",
    "RequestError",
    "RequestTimeout",
    "StartupError",
    "StoreError",
    "TooManyFailedAuthentications",
]


class PermissionDenied(XmarginError):
    code = "permission_denied"
    exit_code = 2


class StoreError(XmarginError):
    code = "store_error"
    exit_code = 2


class DatabaseInUse(StoreError):
    """The database's single-writer lock is held by another server (in a cluster: the
    writer; this server then follows it)."""


class NotAuthenticated(PermissionDenied):
    """A service request without a valid API key (HTTP 401)."""

    code = "not_authenticated"


class TooManyFailedAuthentications(NotAuthenticated):
    """Too many unknown, revoked or expired keys from one client: refused for a while."""

    code = "too_many_failed_authentications"

    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__(
            f"too many failed authentications from this client; retry after {retry_after_seconds} s"
        )


class StartupError(XmarginError):
    """``xmargin serve`` cannot start (its port is taken, say); nothing was changed."""

    code = "cannot_start"
    exit_code = 2


class RequestError(XmarginError):
    """A service request that cannot be processed as sent; nothing was changed."""

    code = "bad_request"
    exit_code = 2


class MalformedRequest(RequestError):
    """The request body is not the JSON document the endpoint reads."""

    code = "malformed_request"


class InvalidRequest(ListsProblems, RequestError):
    """A JSON body, query or header that does not have the fields the endpoint reads."""

    code = "invalid_request"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("invalid request", problems)


class BodyTooLarge(RequestError):
    """A request body above the service's limit (HTTP 413); it was not read further."""

    code = "body_too_large"

    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        super().__init__(f"the request body is larger than {limit_bytes} bytes")


class RequestTimeout(RequestError):
    """A request body that did not arrive in time (HTTP 408)."""

    code = "request_timeout"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"the request body did not arrive within {seconds:g} s")


class IdempotencyConflict(RequestError):
    """An ``Idempotency-Key`` reused for a different request."""

    code = "idempotency_key_reused"

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"Idempotency-Key {key!r} was first used for a different request; "
            "use a new key for a new request"
        )


class JournalMismatch(StoreError):
    """Replaying the journal does not give the stored state; every difference is listed."""

    code = "journal_mismatch"

    def __init__(self, differences: list[str]) -> None:
        self.differences = differences
        n = len(differences)
        super().__init__(
            f"replay differs from the stored state in {n} place(s): {_listed(differences)}"
        )

    def problem_lines(self) -> list[str]:
        return list(self.differences)
