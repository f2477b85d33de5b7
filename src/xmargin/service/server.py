"""Running the app under uvicorn: the listening socket and the connection timeouts.

- :func:`bind` takes the port before anything else happens (``xmargin serve`` binds,
  then opens the database): a busy port fails at once, with one line, having created
  nothing.
- :func:`uvicorn_config` sets the timeouts uvicorn lacks or leaves open: a connection
  must send a request's headers within ``header_timeout_seconds`` of opening (or of its
  last response), else it is closed, so idle and slow-header ("slowloris") connections
  cannot pile up; an idle keep-alive connection is closed after ``keep_alive_seconds``.
  (A slow body is bounded by ``body_timeout_seconds``, :mod:`xmargin.service.bodies`.)
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn
from fastapi import FastAPI

from xmargin.errors import StartupError
from xmargin.service.settings import Settings

__all__ = ["bind", "header_timeout_protocol", "uvicorn_config"]


def bind(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: a free one); else :class:`StartupError`.

    ``reuse_port``: shared with the other servers of a cluster (``SO_REUSEPORT``: the
    kernel spreads the connections over the processes listening on it)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def header_timeout_protocol(seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol, closing a connection whose request headers do not
    arrive within ``seconds`` (counted from the connection, or its last response)."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HeaderTimeoutProtocol(HttpToolsProtocol):
        _header_timer: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(seconds, self._headers_late)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_late(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            # Waiting for the next request's headers (a pipelined one already has them).
            if not self.transport.is_closing() and not self.pipeline:
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeaderTimeoutProtocol


def uvicorn_config(
    app: FastAPI, settings: Settings, *, log_level: str = "info", access_log: bool = False
) -> uvicorn.Config:
    """The uvicorn configuration of the service (timeouts of the module docstring)."""
    http: Any
    try:
        http = header_timeout_protocol(settings.header_timeout_seconds)
    except ImportError:  # pragma: no cover - uvicorn[standard] installs httptools
        http = "h11"
    return uvicorn.Config(
        app,
        http=http,
        log_level=log_level,
        access_log=access_log,
        timeout_keep_alive=max(1, round(settings.keep_alive_seconds)),
        timeout_graceful_shutdown=5,
    )
