"""`fibrosurvey serve` migrates and runs gunicorn without the core CLI importing Django."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_core_cli_does_not_import_django():
    code = (
        "import sys, fibrosurvey.cli; "
        "print(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.timeout(120)
def test_serve_migrates_a_fresh_database_and_answers_http(tmp_path):
    port = _free_port()
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env |= {
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "FIBROSURVEY_VAR_DIR": str(tmp_path),
    }
    fibrosurvey = Path(sys.executable).with_name("fibrosurvey")
    server = subprocess.Popen(
        [str(fibrosurvey), "serve", "--port", str(port), "--workers", "1"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        body = ""
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/") as r:
                    body = r.read().decode()
                    break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.5)
        assert "Log in" in body, server.stdout.read().decode() if server.poll() else "no answer"
        assert (tmp_path / "serve.sqlite3").stat().st_size > 0
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
