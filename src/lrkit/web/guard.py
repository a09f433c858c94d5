"""Host and Origin checks: only pages served by this app may drive its API.

The app listens on the user's own machine, and any web page the user opens can send it
requests. Two checks stop that:

* **Host** (DNS rebinding): a page on ``evil.example`` whose name is made to resolve to
  127.0.0.1 talks to the app with ``Host: evil.example``. Only the names the server
  answers to are accepted: the loopback names by default, plus what ``lrkit serve
  --allow-host`` adds for a server bound elsewhere.
* **Origin** (cross-site requests): a form on another site can POST to the app without a
  preflight. A request that says where it comes from must come from the app's own
  origin (scheme, host and port of the request itself); a request without an Origin
  header (curl, scripts) is not from a browser page and passes.

Refused requests get 400 (Host) or 403 (Origin) with ``{"detail": "<one line>"}``.

>>> host_name("127.0.0.1:8000"), host_name("[::1]:80"), host_name("Example.COM")
('127.0.0.1', '::1', 'example.com')
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from fastapi.responses import JSONResponse

__all__ = ["LOOPBACK_HOSTS", "HostOriginGuard", "host_name"]

#: The names a server on this machine is reached by, whatever port it uses.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def host_name(host: str) -> str:
    """The name part of a Host header (port and IPv6 brackets removed, lower case)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


class HostOriginGuard:
    """Pure ASGI middleware applying the two checks of the module docstring.

    Args:
        app: the ASGI app to protect.
        allowed_hosts: host names accepted besides the loopback ones; ``"*"`` turns the
            Host check off (a server behind a proxy that checks names itself).
    """

    def __init__(self, app: Any, allowed_hosts: Iterable[str] = ()) -> None:
        self.app = app
        extra = {host_name(h) for h in allowed_hosts}
        self.any_host = "*" in extra
        self.hosts = LOOPBACK_HOSTS | (extra - {"*"})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if not self.any_host and host_name(host) not in self.hosts:
            shown = host[:80]
            await self._refuse(scope, receive, send, 400,
                               f"Host = {shown!r}: this lrkit server answers only to "
                               f"{', '.join(sorted(self.hosts))}; open it by one of those "
                               "names, or start it with `lrkit serve --allow-host NAME`")
            return
        origin = headers.get("origin")
        if origin is not None and scope.get("method", "GET") not in _SAFE_METHODS:
            scheme = scope.get("scheme", "http")
            if not _same_origin(origin, scheme, host):
                await self._refuse(scope, receive, send, 403,
                                   f"Origin = {origin[:80]!r}: requests from other sites are "
                                   "refused; use the lrkit page itself or call the API "
                                   "without a browser (curl, Python)")
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(scope: Any, receive: Any, send: Any, status: int, detail: str) -> None:
        await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)


def _same_origin(origin: str, scheme: str, host: str) -> bool:
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme != scheme or not parts.hostname:
        return False
    default = {"http": 80, "https": 443}.get(scheme)
    own = urlsplit(f"{scheme}://{host}")
    try:
        own_port = own.port or default
    except ValueError:
        return False
    return (parts.hostname.lower() == (own.hostname or "").lower()
            and (port or default) == own_port)
