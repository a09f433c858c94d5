"""Reader time and peak memory against input size: every reader must be linear.

Each measurement runs in a fresh Python process (peak RSS is per process) that reads one
generated log with ``lrkit.diagnose.read_logs`` (or runs the whole ``lrkit diagnose`` for
the ``diagnose-csv`` rows). Logs are written to a cache folder once and reused.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/readers/bench_readers.py [--quick]

Writes ``results.json`` beside this file; RESULTS.md quotes it. The baseline is a process
that imports lrkit's readers and reads a 10-row CSV (the interpreter and libraries).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("LRKIT_BENCH_CACHE", "/tmp/lrkit-bench-readers"))


def write_csv(path: Path, rows: int) -> None:
    with path.open("w") as fh:
        fh.write("step,loss,lr\n")
        for i in range(rows):
            fh.write(f"{i},{2.0 * 0.99999 ** i + 0.1:.9f},{1e-3 * (1 + (i % 100) / 1e3):.9e}\n")


def write_jsonl(path: Path, rows: int) -> None:
    with path.open("w") as fh:
        for i in range(rows):
            fh.write(json.dumps({"step": i, "train": {"loss": 2.0 * 0.99999 ** i + 0.1},
                                 "lr": 1e-3}) + "\n")


def write_tensorboard(path: Path, rows: int) -> None:
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary

    from lrkit.diagnose.readers.tensorboard import masked_crc32c

    with path.open("wb") as fh:
        for i in range(rows):
            payload = Event(step=i, wall_time=float(i), summary=Summary(value=[
                Summary.Value(tag="loss", simple_value=2.0 * 0.99999 ** i + 0.1)])
            ).SerializeToString()
            header = struct.pack("<Q", len(payload))
            fh.write(header + struct.pack("<I", masked_crc32c(header)) + payload
                     + struct.pack("<I", masked_crc32c(payload)))


FORMATS = {"csv": ("log.csv", write_csv), "jsonl": ("log.jsonl", write_jsonl),
           "tensorboard": ("events.out.tfevents.1.bench", write_tensorboard)}

CHILD = """
import sys, time
from lrkit.diagnose.readers import read_logs
t = time.perf_counter()
curves = read_logs(sys.argv[1])
print(sum(len(c) for c in curves), time.perf_counter() - t)
"""


def measure(argv: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB, stdout) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{argv} failed: {err[-500:]}")
    return wall, usage.ru_maxrss / 1024, out.strip()


def log_file(fmt: str, rows: int) -> Path:
    name, writer = FORMATS[fmt]
    folder = CACHE / f"{fmt}-{rows}"
    path = folder / name
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / ("tmp-" + name)
        writer(tmp, rows)
        tmp.rename(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    args = ap.parse_args()
    sizes = {"csv": [10_000, 100_000, 1_000_000], "jsonl": [10_000, 100_000, 500_000],
             "tensorboard": [10_000, 100_000, 300_000], "diagnose-csv": [10_000, 100_000,
                                                                      1_000_000]}
    if args.quick:
        sizes = {k: [v // 100 for v in vs] for k, vs in sizes.items()}
    python = sys.executable
    base = log_file("csv", 10)
    b_wall, b_rss, _ = measure([python, "-c", CHILD, str(base)])
    rows = []
    for fmt, ns in sizes.items():
        for n in ns:
            path = log_file("csv" if fmt == "diagnose-csv" else fmt, n)
            if fmt == "diagnose-csv":
                argv = [python, "-m", "lrkit.cli.app", "diagnose", str(path)]
            else:
                argv = [python, "-c", CHILD, str(path)]
            wall, rss, out = measure(argv)
            row = {"format": fmt, "rows": n, "file_mib": path.stat().st_size / 2**20,
                   "wall_s": round(wall, 2), "peak_rss_mib": round(rss, 1),
                   "rss_over_baseline_mib": round(rss - b_rss, 1)}
            if fmt != "diagnose-csv":
                points, read_s = out.split()
                row |= {"points": int(points), "read_s": round(float(read_s), 2)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    doc = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                      f"Python {platform.python_version()}",
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "command": "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/readers/bench_readers.py"
                      + (" --quick" if args.quick else ""),
           "load_average": os.getloadavg(),
           "baseline": {"wall_s": round(b_wall, 2), "peak_rss_mib": round(b_rss, 1)},
           "rows": rows}
    dest = HERE / ("results_quick.json" if args.quick else "results.json")
    dest.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {dest}")


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    main()
