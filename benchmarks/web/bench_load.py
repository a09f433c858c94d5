"""Load benchmark of ``/api/calc``: requests per second and latency under concurrent clients.

Starts the real server with ``lrkit serve`` on a free loopback port (or uses ``--url``,
which must be a loopback address), then runs ``--clients`` concurrent clients (asyncio +
httpx, one keep-alive connection each) that POST calculator inputs until ``--requests``
answers have arrived or ``--duration`` seconds have passed. Every answer must be 200 with
an ``initial_lr``; anything else counts as an error.

Usage:
    .venv/bin/python benchmarks/web/bench_load.py                  # 50 clients, 5000 requests
    .venv/bin/python benchmarks/web/bench_load.py --requests 20000 --duration 60 --json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx

# a few realistic inputs, cycled, so the server does not answer the same question only
BODIES = [
    {"model": "cnn", "batch_size": 128, "dataset_size": 50_000, "epochs": 30},
    {"optimizer": "adamw", "model": "transformer", "batch_size": 512, "total_steps": 100_000,
     "warmup": "2%"},
    {"optimizer": "sgd", "base_lr": 0.1, "base_batch_size": 256, "batch_size": 8192,
     "epochs": 90, "steps_per_epoch": 157},
    {"model": "vit", "fine_tune": True, "batch_size": 64, "epochs": 10, "dataset_size": 10_000},
]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` (Linux /proc), None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def serve() -> Iterator[tuple[str, int]]:
    """Run ``lrkit serve`` in its own process on a free loopback port."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "lrkit.cli.app", "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/openapi.json", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read() if proc.stderr else b""
                    raise SystemExit(f"lrkit serve did not start: {err!r}") from None
                time.sleep(0.2)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def client(http: httpx.AsyncClient, url: str, quota: list[int], deadline: float,
                 latencies: list[float], errors: list[str], offset: int) -> None:
    i = offset
    while quota[0] > 0 and time.perf_counter() < deadline:
        quota[0] -= 1
        body = BODIES[i % len(BODIES)]
        i += 1
        start = time.perf_counter()
        try:
            r = await http.post(url + "/api/calc", json=body)
            ok = r.status_code == 200 and "initial_lr" in r.json()
            if not ok:
                errors.append(f"{r.status_code}: {r.text[:120]}")
        except httpx.HTTPError as err:
            errors.append(f"{type(err).__name__}: {err}")
        latencies.append(time.perf_counter() - start)


async def run(url: str, clients: int, requests: int, duration: float,
              pid: int | None = None) -> dict[str, object]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        # warm up: imports, first calculator call, connection set-up (not measured)
        await asyncio.gather(*(http.post(url + "/api/calc", json=BODIES[i % len(BODIES)])
                               for i in range(clients)))
        latencies: list[float] = []
        errors: list[str] = []
        quota = [requests]
        cpu0 = cpu_seconds(pid) if pid else None
        own0 = time.process_time()
        start = time.perf_counter()
        await asyncio.gather(*(client(http, url, quota, start + duration, latencies, errors, k)
                               for k in range(clients)))
        elapsed = time.perf_counter() - start
        cpu1 = cpu_seconds(pid) if pid else None
        own = time.process_time() - own0
    ordered = sorted(latencies)
    # CPU the server spent per answer: unlike wall-clock numbers, barely moved by other
    # processes competing for the same cores
    server_cpu = (None if cpu0 is None or cpu1 is None
                  else round((cpu1 - cpu0) / len(latencies) * 1000, 2))

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {
        "requests": len(latencies), "clients": clients, "seconds": round(elapsed, 2),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(pct(0.50), 1), "p90_ms": round(pct(0.90), 1),
        "p99_ms": round(pct(0.99), 1), "max_ms": round(ordered[-1] * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "server_cpu_ms_per_request": server_cpu,
        "client_cpu_ms_per_request": round(own / len(latencies) * 1000, 2),
        "errors": len(errors), "first_errors": errors[:3],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--duration", type=float, default=60.0, help="stop after this many seconds")
    ap.add_argument("--url", help="an already running server (loopback only)")
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    args = ap.parse_args()
    if args.clients < 1 or args.requests < 1 or args.duration <= 0:
        ap.error("--clients, --requests and --duration must be positive")
    if args.url and urlsplit(args.url).hostname not in LOOPBACK:
        ap.error(f"--url {args.url}: only loopback servers may be loaded (127.0.0.1)")
    with contextlib.ExitStack() as stack:
        url, pid = (args.url, None) if args.url else stack.enter_context(serve())
        result = asyncio.run(run(url, args.clients, args.requests, args.duration, pid))
    result["machine"] = f"{platform.machine()}, {os.cpu_count()} CPUs, Python " \
                        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:>13}: {value}")
    if result["errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
