"""``lrkit serve``: starts the real app; bad options are one line and exit 2."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from lrkit.cli.app import main


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(("args", "message"), [
    (["--port", "70000"], "--port = 70000: must be between 1 and 65535"),
    (["--max-upload-mb", "0"], "--max-upload-mb = 0: must be in (0, 2048]"),
    (["--host", "no.such.host.invalid"], "--host = 'no.such.host.invalid': cannot resolve"),
])
def test_bad_options_exit_2_with_one_line(capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        main(["serve", *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lrkit: error: ") and message in err
    assert len(err.splitlines()) == 1


def test_a_taken_port_is_a_clear_error(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as exc:
            main(["serve", "--port", str(port)])
    assert exc.value.code == 2
    assert f"--port = {port}: cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_serve_runs_the_app_on_loopback():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "lrkit.cli.app", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/schedules", timeout=2) as r:
                    assert r.status == 200
                    assert b"Schedule explorer" in r.read()
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"lrkit serve did not answer: {proc.communicate()[1]}")
                time.sleep(0.2)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}" in err
