"""How ``matchgraph serve`` listens: uvicorn's httptools protocol with deadlines for slow clients.

uvicorn closes idle keep-alive connections, but a client that opens a connection and then sends
its request line and headers one byte a minute (or a body that stalls half way) holds a worker
slot for as long as it likes. :class:`TimedHttpProtocol` gives every request
``MATCHGRAPH_HEADER_TIMEOUT_S`` from its first byte (or from the connection, for the first one)
to finish its headers, and closes a connection whose body stops arriving for
``MATCHGRAPH_BODY_IDLE_TIMEOUT_S``. Everything else is uvicorn's own protocol.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from graph.settings import get_settings

if TYPE_CHECKING:
    import asyncio

    from uvicorn.config import Config
    from uvicorn.server import ServerState

log = logging.getLogger("matchgraph.api")


class TimedHttpProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` that closes connections whose headers or body arrive too slowly."""

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = get_settings()
        self.header_timeout_s = settings.header_timeout_s
        self.body_idle_timeout_s = settings.body_idle_timeout_s
        self._deadline: asyncio.TimerHandle | None = None

    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired, what)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self, what: str) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            log.info("closing a connection from %s: %s", self.client, what)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout_s, "no request headers in time")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self.header_timeout_s, "the request headers came too slowly")

    def on_headers_complete(self) -> None:
        self._arm(self.body_idle_timeout_s, "the request body stopped arriving")
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._arm(self.body_idle_timeout_s, "the request body stopped arriving")
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()


SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
PAGE_POLICY = (b"default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOCS_POLICY = (b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
               b"img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
"""The pages run no script at all; Swagger UI and ReDoc run their own (served from this host) and
start with an inline script, so only ``/docs`` and ``/redoc`` allow one."""


class SecurityHeaders:
    """A plain ASGI middleware adding the security headers to every response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"].startswith(("/docs", "/redoc")) else PAGE_POLICY

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *SECURITY_HEADERS,
                                      (b"content-security-policy", policy)]
            await send(message)

        await self.app(scope, receive, with_headers)
