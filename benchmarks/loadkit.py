"""Shared machinery for the capture-platform load and fault scripts (not a test).

A scratch PostgreSQL database, gunicorn in production mode over plain HTTP on 127.0.0.1,
participant clients in separate processes (threads inside) that open survey links and
submit pages with retries, and the exactly-once check against the database afterwards.
Traffic goes ONLY to 127.0.0.1; every loop is bounded by a deadline.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
HOST = "127.0.0.1"

SETUP_CODE = r"""
import json, sys
import django
django.setup()
from fibrosurvey.web.studies.services import do_create_study_from_template
from fibrosurvey.web.participants.enrolment import do_enrol_participant
from fibrosurvey.web.participants.invitations import do_issue_invitation
from fibrosurvey.web.survey import services
from django.contrib.auth import get_user_model
n = int(sys.argv[1])
owner = get_user_model().objects.create_user("loadowner", "o@example.org", "x-load-Password-1")
study = do_create_study_from_template(name="Load study", owner=owner, sites=[("north", "North")])
site = study.sites.get(code="north")
event = study.events.get(code="baseline")
out = []
for i in range(n):
    p = do_enrol_participant(
        study, site=site, actor=owner, language="en", email=f"p{i}@example.org"
    )
    issued = do_issue_invitation(p, event, send=False)
    services.do_record_consent(issued.invitation, language="en")
    services.do_choose_language(issued.invitation, language="en")
    out.append({"token": issued.token, "participant_id": p.pk})
print(json.dumps(out))
"""


def _env(db_name: str, static_root: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_ALLOW"))}
    env.update(
        DJANGO_SETTINGS_MODULE="fibrosurvey.web.settings",
        DEBUG="0",
        SECRET_KEY="load-" + os.urandom(24).hex(),
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        AUDIT_HMAC_KEY="load-audit-" + os.urandom(24).hex(),
        ALLOWED_HOSTS=HOST,
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{db_name}",
        # Longer than any run, so the CPU of the database backends can be read at the end.
        DATABASE_CONN_MAX_AGE="900",
        STATIC_ROOT=static_root,
        # Plain HTTP on the loopback interface: no TLS redirect, cookies without Secure.
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        LINK_RATE_LIMIT="100000",
        LOG_LEVEL="ERROR",
    )
    return env


class Stack:
    """A scratch database, migrated and seeded, and a gunicorn server on it."""

    def __init__(self, *, participants: int, workers: int, port: int) -> None:
        self.db_name = f"fibrosurvey_load_{os.getpid()}"
        self.static = tempfile.mkdtemp(prefix="fibrosurvey-static-")
        self.env = _env(self.db_name, self.static)
        self.participants = participants
        self.workers = workers
        self.port = port
        self.server: subprocess.Popen[bytes] | None = None
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115  (closed in __exit__)
            prefix="fibrosurvey-gunicorn-", suffix=".log", delete=False
        )
        self.tokens: list[dict[str, Any]] = []

    def _manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "django", *args],
            env=self.env, cwd=REPO, capture_output=True, text=True, check=False, timeout=900,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"manage {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def __enter__(self) -> Stack:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}"')
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        self._manage("migrate", "--noinput")
        self._manage("collectstatic", "--noinput")
        seeded = subprocess.run(
            [sys.executable, "-c", SETUP_CODE, str(self.participants)],
            env=self.env, cwd=REPO, capture_output=True, text=True, check=True, timeout=900,
        )  # fmt: skip
        self.tokens = json.loads(seeded.stdout.strip().splitlines()[-1])
        self.start_server()
        return self

    def start_server(self) -> None:
        self.server = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "fibrosurvey.web.wsgi:application",
                "--bind", f"{HOST}:{self.port}", "--workers", str(self.workers),
                "--timeout", "30", "--graceful-timeout", "5", "--log-level", "warning",
            ],
            # A file, not a pipe: nobody reads a pipe during load, and a full pipe buffer
            # (error tracebacks while the database restarts) would block every worker.
            env=self.env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=self.log,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _, _ = request("GET", self.port, "/ops/ping/", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer /ops/ping/ within 60 s")

    def worker_pids(self) -> list[int]:
        assert self.server is not None
        out = subprocess.run(
            ["pgrep", "-P", str(self.server.pid)], capture_output=True, text=True, check=False
        )
        return [int(pid) for pid in out.stdout.split()]

    def stop_server(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        self.server = None

    def __exit__(self, *exc: object) -> None:
        self.stop_server()
        self.log.close()
        if os.environ.get("KEEP_LOAD_DB") != "1":
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')

    def database_pids(self) -> list[int]:
        """PostgreSQL backend processes serving the scratch database."""
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.db_name]
            ).fetchall()
        return [int(row[0]) for row in rows]

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{self.db_name}")


# --- HTTP ---------------------------------------------------------------------------------


def request(
    method: str,
    port: int,
    path: str,
    *,
    body: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request to 127.0.0.1 (gunicorn sync workers close after each response)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    headers = {"Host": HOST}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    data = None
    if body is not None:
        data = urllib.parse.urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Referer"] = f"http://{HOST}:{port}{path}"
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        content = response.read()
        if cookies is not None:
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    cookies[key.strip()] = rest.split(";", 1)[0]
        return response.status, {k.lower(): v for k, v in response.getheaders()}, content
    finally:
        conn.close()


_HIDDEN = re.compile(r'name="(csrfmiddlewaretoken|nonce)" value="([^"]+)"')
_RADIO = re.compile(r'type="radio" name="([a-z0-9_]+)" value="(-?\d+)"')
# Numbers are text fields (a decimal comma must reach the server); the hint gives the minimum.
_NUMBER = re.compile(
    r'id="in-[a-z0-9_]+" name="([a-z0-9_]+)" value="[^"]*" autocomplete="off" '
    r'inputmode="(?:numeric|decimal)".*?<p class="hint">From (\S+) to',
    re.DOTALL,
)


def page_form(html: str) -> tuple[dict[str, str], dict[str, str]]:
    """(hidden fields, a valid answer per item: the first option / the minimum)."""
    hidden = dict(_HIDDEN.findall(html))
    answers: dict[str, str] = {}
    for name, value in _RADIO.findall(html):
        answers.setdefault(name, value)
    for name, minimum in _NUMBER.findall(html):
        answers.setdefault(name, minimum.replace(",", "."))
    return hidden, answers


# --- clients ------------------------------------------------------------------------------


@dataclass
class ClientResult:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"get": [], "post": []})
    acknowledged: list[dict[str, Any]] = field(default_factory=list)
    retries: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    partial: int = 0  # responses that were neither a full page nor a redirect

    def merge(self, other: ClientResult) -> None:
        for kind in self.latencies:
            self.latencies[kind] += other.latencies[kind]
        self.acknowledged += other.acknowledged
        self.retries += other.retries
        self.partial += other.partial
        for key, count in other.errors.items():
            self.errors[key] = self.errors.get(key, 0) + count


def _with_retries(result: ClientResult, deadline: float, call: Any) -> Any:
    """Retry on timeouts, refused/reset connections and 5xx (same nonce: at most once)."""
    delay = 0.1
    for attempt in range(12):
        try:
            status, headers, content = call()
            if status < 500:
                return status, headers, content
            key = f"http {status}"
        except (OSError, http.client.HTTPException) as error:
            key = type(error).__name__
        result.errors[key] = result.errors.get(key, 0) + 1
        if attempt == 11 or time.monotonic() > deadline + 30:
            return None
        result.retries += 1
        time.sleep(delay)
        delay = min(delay * 2, 2.0)
    return None


def _participant(port: int, token: dict[str, Any], deadline: float, result: ClientResult) -> bool:
    """Open the link and submit pages until the survey is done or time is up."""
    cookies: dict[str, str] = {}
    path = f"/s/{token['token']}/"
    while time.monotonic() < deadline:
        start = time.perf_counter()
        got = _with_retries(
            result, deadline, lambda p=path: request("GET", port, p, cookies=cookies)
        )
        if got is None:
            return False
        result.latencies["get"].append(time.perf_counter() - start)
        status, headers, content = got
        if status in (301, 302):
            path = urllib.parse.urlsplit(headers["location"]).path
            if path.endswith("/done/"):
                return True
            continue
        html = content.decode("utf-8", "replace")
        if status != 200 or "</html>" not in html:
            result.partial += status == 200
            result.errors[f"get {status}"] = result.errors.get(f"get {status}", 0) + 1
            return False
        hidden, answers = page_form(html)
        if "nonce" not in hidden:
            return path.endswith("/done/")
        body = {**answers, **hidden, "action": "next"}
        start = time.perf_counter()
        got = _with_retries(
            result,
            deadline,
            lambda p=path, b=body: request("POST", port, p, body=b, cookies=cookies),
        )
        if got is None:
            return False
        status, headers, content = got
        result.latencies["post"].append(time.perf_counter() - start)
        if status != 302:
            result.errors[f"post {status}"] = result.errors.get(f"post {status}", 0) + 1
            return False
        result.acknowledged.append(
            {
                "participant_id": token["participant_id"],
                "nonce": hidden["nonce"],
                "answers": answers,
            }
        )
        path = urllib.parse.urlsplit(headers["location"]).path
    return False


def _thread_main(port: int, tokens: Any, deadline: float, result: ClientResult) -> None:
    while time.monotonic() < deadline:
        try:
            token = tokens.get_nowait()
        except Exception:
            return
        _participant(port, token, deadline, result)


def _process_main(port: int, threads: int, tokens: Any, duration: float, out: Any) -> None:
    deadline = time.monotonic() + duration
    results = [ClientResult() for _ in range(threads)]
    workers = [
        threading.Thread(target=_thread_main, args=(port, tokens, deadline, results[i]))
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=duration + 120)
    total = ClientResult()
    for result in results:
        total.merge(result)
    out.put(total)


def run_participants(
    port: int, tokens: list[dict[str, Any]], *, clients: int, duration: float, processes: int = 4
) -> ClientResult:
    """``clients`` concurrent participants (threads spread over ``processes`` processes)."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    for token in tokens:
        queue.put(token)
    out = ctx.Queue()
    per = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    procs = [
        ctx.Process(target=_process_main, args=(port, n, queue, duration, out)) for n in per if n
    ]
    for proc in procs:
        proc.start()
    total = ClientResult()
    for _ in procs:
        total.merge(out.get(timeout=duration + 300))
    for proc in procs:
        proc.join(timeout=30)
    return total


def _ping_thread(port: int, deadline: float, latencies: list[float], errors: list[int]) -> None:
    while time.monotonic() < deadline:
        start = time.perf_counter()
        try:
            status, _, _ = request("GET", port, "/ops/ping/")
        except OSError:
            errors.append(1)
            continue
        if status == 200:
            latencies.append(time.perf_counter() - start)


def _ping_process(port: int, threads: int, duration: float, out: Any) -> None:
    deadline = time.monotonic() + duration
    latencies: list[float] = []
    errors: list[int] = []
    workers = [
        threading.Thread(target=_ping_thread, args=(port, deadline, latencies, errors))
        for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    out.put(latencies)


def run_ping(port: int, *, clients: int, duration: float, processes: int = 4) -> list[float]:
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    per = clients // processes
    procs = [
        ctx.Process(target=_ping_process, args=(port, per, duration, out)) for _ in range(processes)
    ]
    for proc in procs:
        proc.start()
    latencies: list[float] = []
    for _ in procs:
        latencies += out.get(timeout=duration + 120)
    for proc in procs:
        proc.join(timeout=30)
    return latencies


# --- verification -------------------------------------------------------------------------


def _same(stored: Any, sent: str) -> bool:
    if stored is None:
        return False
    return float(stored) == float(sent)


def verify_exactly_once(stack: Stack, acknowledged: list[dict[str, Any]]) -> dict[str, int]:
    """Every acknowledged page is stored once: its nonce once, its answers in the response."""
    with stack.connect() as conn:
        nonces = {
            row[0]: row[1]
            for row in conn.execute(
                "SELECT nonce, COUNT(*) FROM survey_pagesubmission GROUP BY nonce"
            )
        }
        duplicated_responses = conn.execute(
            "SELECT COUNT(*) FROM (SELECT participant_id, event_id, instrument_id"
            " FROM survey_response GROUP BY 1, 2, 3 HAVING COUNT(*) > 1) d"
        ).fetchone()[0]
        answers: dict[tuple[int, str], dict[str, Any]] = {
            (row[0], row[1]): row[2]
            for row in conn.execute(
                "SELECT participant_id, instrument_id, answers FROM survey_response"
            )
        }
    lost = wrong = 0
    for ack in acknowledged:
        if nonces.get(ack["nonce"], 0) != 1:
            lost += 1
            continue
        for column, value in ack["answers"].items():
            instrument = column.split("_", 1)[0]
            stored = answers.get((ack["participant_id"], instrument), {})
            if not _same(stored.get(column), value):
                wrong += 1
                break
    duplicated = sum(1 for count in nonces.values() if count > 1) + duplicated_responses
    return {
        "acknowledged": len(acknowledged),
        "stored_submissions": sum(nonces.values()),
        "lost": lost,
        "wrong_answers": wrong,
        "duplicated": duplicated,
    }


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each live process (from /proc; gone processes are left out)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]
