"""`fibrosurvey serve` with 4 gunicorn workers and Redis: the survey-link limits hold across
workers (one shared count), and no log line (gunicorn access log, Django's warnings) carries
a link token."""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

WORKERS = 4
PER_LINK_LIMIT = 6
MISS_LIMIT = 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(
    port: int,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    source: str = "127.0.0.1",
) -> int:
    # Any 127.x.y.z source reaches the loopback server: one client address per test.
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=10, source_address=(source, 0)
    )
    try:
        headers = dict(headers or {})
        if body:
            headers["Content-Type"] = "application/fhir+json"
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@dataclass
class Server:
    port: int
    log: Path
    tokens: list[str]

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`fibrosurvey serve --workers 4` on a fresh SQLite file, counting in Redis under a key
    prefix of its own (other test runs share the Redis server)."""
    from cryptography.fernet import Fernet

    tmp = tmp_path_factory.mktemp("gunicorn")
    port = _free_port()
    log = tmp / "server.log"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "DJANGO_", "SECRET_KEY", "FIELD_ENCRYPTION_KEY"))
    }
    env.update(
        DEBUG="0",
        SECRET_KEY="gunicorn-test-" + secrets.token_hex(24),
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        FIBROSURVEY_VAR_DIR=str(tmp),
        STATIC_ROOT=str(tmp / "static"),
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CACHE_URL="redis://127.0.0.1:6379/0",
        CACHE_KEY_PREFIX="fibrosurvey-test-" + secrets.token_hex(8),
        LINK_RATE_LIMIT=str(PER_LINK_LIMIT),
        LINK_MISS_LIMIT=str(MISS_LIMIT),
        LINK_RATE_WINDOW="120",
        # The worker's pid in every access line shows which worker answered.
        GUNICORN_CMD_ARGS='--access-logformat "pid=%(p)s %(h)s \\"%(r)s\\" %(s)s \\"%(f)s\\""',
    )
    # collectstatic runs beside `serve` (which migrates, then starts gunicorn) to save time;
    # the workers read the static manifest on their first page.
    collect = subprocess.Popen(
        [sys.executable, "-m", "django", "collectstatic", "--noinput", "-v0"],
        env=env | {"DJANGO_SETTINGS_MODULE": "fibrosurvey.web.settings"},
        cwd=tmp,
    )
    fibrosurvey = Path(sys.executable).with_name("fibrosurvey")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(fibrosurvey), "serve", "--port", str(port), "--workers", str(WORKERS)],
            env=env,
            cwd=tmp,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert collect.wait(timeout=60) == 0
        deadline = time.monotonic() + 60
        while True:
            try:
                if _request(port, "GET", "/ops/ping/") == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
            time.sleep(0.2)
        # Let every worker finish booting, so requests spread over all of them.
        time.sleep(1)
        yield Server(port, log, [])
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@pytest.mark.timeout(90)
def test_link_limits_hold_across_four_workers_through_redis(server):
    token = "guess-" + secrets.token_urlsafe(18)
    server.tokens.append(token)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: _request(server.port, "GET", f"/s/{token}/"), range(24)))
    # One count for the (address, token) pair, whichever worker answered.
    assert Counter(statuses) == {404: PER_LINK_LIMIT, 429: 24 - PER_LINK_LIMIT}
    pids = set(re.findall(r"pid=<(\d+)> \S+ \"GET /s/", server.text()))
    assert len(pids) >= 2, f"all requests went to one worker: {pids}"

    # The 6 unknown-link answers above count towards the address's 10 misses: 4 more guesses,
    # then every link from this address waits, the FHIR endpoint included.
    guesses = ["guess-" + secrets.token_urlsafe(18) for _ in range(6)]
    server.tokens.extend(guesses)
    statuses = [_request(server.port, "GET", f"/s/{guess}/") for guess in guesses]
    assert statuses == [404] * (MISS_LIMIT - PER_LINK_LIMIT) + [429] * 2
    fhir_token = "guess-" + secrets.token_urlsafe(18)
    server.tokens.append(fhir_token)
    assert _request(server.port, "POST", f"/api/survey/{fhir_token}/fhir", b"{}") == 429


@pytest.mark.timeout(90)
def test_no_log_line_carries_a_link_token(server):
    token = "secret-" + secrets.token_urlsafe(18)
    server.tokens.append(token)
    # A 404 answered by the view (Django logs "Not Found: <path>"), with the token in the
    # query string and in the Referer too; from an address of its own (not yet throttled).
    status = _request(
        server.port,
        "GET",
        f"/s/{token}/page/2/?next=%2Fs%2F{token}%2F",
        headers={"Referer": f"http://127.0.0.1:{server.port}/s/{token}/consent/"},
        source="127.0.0.2",
    )
    assert status == 404
    time.sleep(0.5)

    text = server.text()
    assert "Not Found: /s/[token]/page/2/" in text
    assert re.search(r'"GET /s/\[token\]/page/2/\?next=%2Fs%2F\[token\]%2F HTTP/1\.1"', text)
    assert "/s/[token]/consent/" in text
    leaked = [t for t in server.tokens if t in text]
    assert leaked == [], text[-3000:]
