"""The FastAPI application factory.

>>> app = create_app()
>>> sorted(p for p in app.openapi()["paths"] if p.startswith("/api"))[:2]
['/api/calc', '/api/diagnose']
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from lrkit.web import api_calc, api_diagnose, api_schedule, assets, errors, pages
from lrkit.web.api_diagnose import DIAGNOSE_TIMEOUT_S, DIAGNOSE_WORKERS
from lrkit.web.guard import HostOriginGuard

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "MAX_JSON_BYTES", "create_app"]

DEFAULT_MAX_UPLOAD_BYTES = 20 * 2**20
MAX_JSON_BYTES = 2**20

# Everything is served by this app itself: the policy makes the browser refuse any other
# origin, so a page cannot make an external request even by accident.
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
_HEADERS = [(b"content-security-policy", _CSP.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer")]


class _SecurityHeaders:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware) adding the headers above."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _JsonBodyLimit:
    """Refuse a JSON API body over ``limit`` bytes with 413 before reading it whole.

    The JSON requests are a few hundred bytes; megabytes can only be a mistake or abuse.
    Uploads (``/api/diagnose``) count their own, larger limit.
    """

    def __init__(self, app: Any, limit: int = MAX_JSON_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/api/") or path == "/api/diagnose":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            await JSONResponse({"detail": self._message()}, status_code=413)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:  # a chunked body with no length: counted as it arrives
                # an HTTPException is the one error FastAPI's body reader passes through
                raise HTTPException(413, self._message())
            return message

        await self.app(scope, counted, send)

    def _message(self) -> str:
        return (f"request body: larger than {self.limit // 1024} KiB; a JSON request to this "
                "API is a few hundred bytes, send only the fields it documents")


def create_app(*, max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
               allowed_hosts: Iterable[str] = (),
               diagnose_timeout_s: float = DIAGNOSE_TIMEOUT_S,
               diagnose_workers: int = DIAGNOSE_WORKERS) -> FastAPI:
    """Build the lrkit web app: pages, JSON API, static files and error handlers.

    Args:
        max_upload_bytes: largest log file ``/api/diagnose`` accepts (larger: 413).
        allowed_hosts: host names served besides 127.0.0.1, localhost and ::1 (``"*"``:
            any); requests naming another host get 400 (see :mod:`lrkit.web.guard`).
        diagnose_timeout_s: longest a client waits for one diagnosis (then 422).
        diagnose_workers: diagnoses run at once in worker threads; more wait.
    """
    from lrkit import __version__

    app = FastAPI(
        title="lrkit", version=__version__,
        description="Find, shape and debug the learning rate. Every user error answers 422 "
                    "with {\"detail\": \"<one-line message>\"}, the same text the CLI prints.",
        docs_url=None, redoc_url=None)  # /docs is served locally (the default uses a CDN)
    app.state.max_upload_bytes = max_upload_bytes
    errors.install(app)
    for router in (pages.router, assets.router, api_calc.make_router(), api_schedule.router,
                   api_diagnose.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.state.diagnose_timeout_s = diagnose_timeout_s
    app.state.diagnose_workers = diagnose_workers
    app.add_middleware(_JsonBodyLimit)
    # outermost but one: a foreign Host or Origin is refused before anything else runs
    app.add_middleware(HostOriginGuard, allowed_hosts=tuple(allowed_hosts))
    app.add_middleware(_SecurityHeaders)
    return app
