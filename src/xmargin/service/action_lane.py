"""The lean path of the action routes: ``POST /v1/accounts/{id}/deposit|withdraw|borrow|repay``.

These four routes carry most of a busy venue's traffic, and FastAPI's per-request
machinery (routing through every route's regex, resolving the dependency graph,
validating parameters through generated models, the exception middleware) cost more CPU
than the action itself (issue 12's profile: ~42 % of the CPU per action). The lane
takes those requests before FastAPI does (:class:`LaneApp`, the app's ``__call__``) and
runs the very same steps by hand, in the same order, with the same code:

1. the key (:meth:`~xmargin.service.auth.Authenticator.resolve_async`: 401 / 429, read from the
   database on every request, as the dependency does);
2. the path's account id and the ``Idempotency-Key`` header, validated with the same
   constraints (422 ``invalid_request`` at ``path.account_id`` / ``header.Idempotency-Key``
   with pydantic's messages, as FastAPI reports them);
3. :func:`~xmargin.service.routes.accounts.submit_action` (the route's own body);

and renders errors with the service's one error rendering
(:func:`~xmargin.service.errors.error_response`). The FastAPI routes stay registered:
they are the OpenAPI documentation, and they answer whatever this layer passes on (any
other method or path). The request metrics see the route template as before.
"""

from __future__ import annotations

import re
import time
from typing import Annotated, cast

from fastapi import FastAPI
from pydantic import StringConstraints, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from xmargin.errors import InvalidRequest, Problem, XmarginError
from xmargin.model.names import MAX_NAME_LENGTH
from xmargin.service.cluster import Follower
from xmargin.service.deps import Services
from xmargin.service.errors import error_response, unexpected_response
from xmargin.service.routes.accounts import submit_action
from xmargin.store.journal import ACCOUNT_ACTIONS, AccountActionKind

__all__ = ["LaneApp"]

_PATH = re.compile(r"/v1/accounts/([^/]+)/(" + "|".join(ACCOUNT_ACTIONS) + r")")
_ACCOUNT = TypeAdapter(Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH)])
_IDEM = TypeAdapter(
    Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")]
)


def _problems(exc: ValidationError, where: str) -> list[Problem]:
    return [Problem(where, str(e["msg"])) for e in exc.errors(include_url=False)]


class LaneApp(FastAPI):
    """The service's FastAPI app, with the action routes taken first (module docstring).

    The lane sits in front of FastAPI's whole stack (its telemetry, middleware and
    router): it counts and times its requests in the service's metrics itself, and
    renders every error it meets, an unexpected one as the 500 the stack would send.
    """

    #: a cluster follower forwards every write to the writer (:mod:`xmargin.service.cluster`)
    follower: Follower | None = None
    #: False: the action routes go through FastAPI too (tests compare the two paths)
    lean_actions: bool = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        follower = self.follower
        if follower is not None and follower.is_write(scope):
            await follower.forward(scope, receive, send)
            return
        m = None
        if scope["type"] == "http" and scope["method"] == "POST" and self.lean_actions:
            m = _PATH.fullmatch(scope["path"])
        if m is None:
            await super().__call__(scope, receive, send)
            return
        started = time.perf_counter()
        scope["app"] = self
        kind = cast(AccountActionKind, m.group(2))
        request = Request(scope, receive)
        services: Services = self.state.services
        try:
            response = await _act(kind, m.group(1), request, services)
        except XmarginError as exc:
            response = error_response(exc)
        except Exception as exc:
            response = unexpected_response(exc)
        await response(scope, receive, send)
        route = _TEMPLATES[kind]
        services.metrics.requests.labels("POST", route, str(response.status_code)).inc()
        services.metrics.latency.labels(route).observe(time.perf_counter() - started)


_TEMPLATES = {k: f"/v1/accounts/{{account_id}}/{k}" for k in ACCOUNT_ACTIONS}


async def _act(
    kind: AccountActionKind, account_id: str, request: Request, services: Services
) -> Response:
    """The route's dependencies by hand, in FastAPI's order: the key, then the path and
    header parameters, then the route's body (``submit_action``)."""
    client = request.client.host if request.client is not None else "unknown"
    headers = request.headers
    key = await services.keys.resolve_async(headers.get("authorization"), client)
    problems: list[Problem] = []
    try:
        _ACCOUNT.validate_python(account_id)
    except ValidationError as exc:
        problems += _problems(exc, "path.account_id")
    idem = headers.get("idempotency-key")
    if idem is not None:
        try:
            _IDEM.validate_python(idem)
        except ValidationError as exc:
            problems += _problems(exc, "header.Idempotency-Key")
    if problems:
        raise InvalidRequest(problems)
    return await submit_action(kind, account_id, request, key, services, idem)
