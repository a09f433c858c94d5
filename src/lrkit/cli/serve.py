"""``lrkit serve``: run the local web app (calculator, schedule explorer, log diagnosis)."""

from __future__ import annotations

import ipaddress
import socket

import typer

from lrkit.cli._common import err_console
from lrkit.errors import ConfigError

RANK = 80


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: str = typer.Option("127.0.0.1", "--host",
                             help="Address to listen on; 127.0.0.1 keeps it on this machine."),
    port: int = typer.Option(8000, "--port", help="TCP port to listen on (1-65535)."),
    max_upload_mb: float = typer.Option(
        20.0, "--max-upload-mb", help="Largest log file the diagnose page accepts, in MB."),
    allow_host: list[str] = typer.Option(
        [], "--allow-host",
        help="A host name the app answers to besides 127.0.0.1/localhost/::1 and --host "
             "(repeatable; '*' = any). Needed when it is reached by another name."),
) -> None:
    """Run the web app: calculator, schedule explorer and log diagnosis, with a JSON API.

    Example: lrkit serve --port 8000, then open http://127.0.0.1:8000
    """
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port = {port}: must be between 1 and 65535; pass e.g. 8000")
    if not 0 < max_upload_mb <= 2048:
        raise ConfigError(f"--max-upload-mb = {max_upload_mb:g}: must be in (0, 2048]; "
                          "pass e.g. 20")
    from lrkit._deps import require

    uvicorn = require("uvicorn", extra="web")
    from lrkit.web import create_app

    for name in allow_host:
        if not name or len(name) > 253 or any(c.isspace() or c in "/@" for c in name):
            raise ConfigError(f"--allow-host = {name[:80]!r}: not a host name; pass a name "
                              "such as myserver.local, or '*'")
    # The address it listens on is a name it is reached by (not a wildcard bind).
    own = [] if host in ("0.0.0.0", "::", "") else [host]
    app = create_app(max_upload_bytes=int(max_upload_mb * 2**20),
                     allowed_hosts=[*own, *allow_host])
    sock = _bind(host, port)  # bind first, so a taken port is a one-line error, not a log
    if not _is_loopback(host):
        err_console.print(f"[yellow]note:[/yellow] listening on {host}: other machines on the "
                          "network can reach this app; it has no authentication", soft_wrap=True)
        if not own and not allow_host:
            err_console.print("[yellow]note:[/yellow] requests are accepted only for the "
                              "loopback names; add --allow-host NAME for the name other "
                              "machines use", soft_wrap=True)
    err_console.print(f"lrkit web app on [bold]http://{_url_host(host)}:{port}[/bold] "
                      "(Ctrl+C stops it)", soft_wrap=True)
    # keep idle connections 30 s (uvicorn's default is 5): a busy client that reuses a
    # connection the server just closed sees a reset, and POSTs are not retried
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_keep_alive=30))
    server.run(sockets=[sock])


def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise ConfigError(f"--host = {host[:80]!r}: cannot resolve it ({err.strerror}); "
                          "pass an address such as 127.0.0.1") from None
    except (UnicodeError, ValueError):  # a label over 63 characters, a NUL byte
        raise ConfigError(f"--host = {host[:80]!r}: not a valid host name; pass an address "
                          "such as 127.0.0.1") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as err:
        sock.close()
        raise ConfigError(f"--port = {port}: cannot listen on {host}:{port} ({err.strerror}); "
                          "pick another port, e.g. --port 8001") from None
    sock.set_inheritable(True)
    return sock


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
