"""Every check on a request body is linear: a hostile body costs time in proportion to its
size, whatever it holds and whatever its content type, and gets a 4xx quickly.

Timings compare ratios (time per byte at 100 kB, 1 MB and 4 MB), best of three, so a busy
2-core machine slows every size alike; a quadratic check is 40x slower per byte at 4 MB than
at 100 kB, a linear one about 1x. Each measurement runs under an alarm so the quadratic
version fails in seconds instead of hanging for minutes.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.test import Client

from fibrosurvey.web.ops.jsonsafe import json_depth

# name -> (first characters, unit repeated after them)
HOSTILE_BODIES = {
    "escaped quotes, never closed": ('"', '\\"'),
    "empty strings": ("", '""'),
    "open and close": ("", "[]"),
    "escapes, never closed": ('"', "\\a"),
    "backslashes": ("", "\\"),
    "object soup": ("", '{"a":[1,"x\\"]"]},'),
}
SIZES = (100_000, 1_000_000, 4_000_000)
UNCLOSED = HOSTILE_BODIES["escaped quotes, never closed"]


def hostile(shape: tuple[str, str], size: int) -> str:
    first, unit = shape
    return first + unit * ((size - len(first)) // len(unit))


@contextmanager
def at_most(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _best_seconds(action: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("shape", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_json_depth_time_per_byte_stays_flat_from_100_kb_to_4_mb(shape):
    per_byte = {}
    for size in SIZES:
        body = hostile(shape, size)
        with at_most(10):
            seconds = _best_seconds(lambda body=body: json_depth(body, 64))
        per_byte[size] = max(seconds, 1e-4) / len(body)
    smallest = per_byte[SIZES[0]]
    ratios = {size: round(value / smallest, 2) for size, value in per_byte.items()}
    assert max(ratios.values()) < 15, ratios  # linear: ~1-4 (cache effects); quadratic: 40+


def test_nul_detection_is_linear_and_reads_json_escapes_exactly():
    from fibrosurvey.web.ops.jsonsafe import json_has_nul

    assert json_has_nul('{"note": "a\\u0000b"}')
    assert json_has_nul(b'["\x00"]')
    assert json_has_nul('["\\\\\\u0000"]')  # escaped backslash, then an escaped NUL
    assert not json_has_nul('["\\\\u0000"]')  # escaped backslash, then the text u0000
    assert not json_has_nul('{"note": "u0000 \\\\ \\""}')
    with at_most(5):
        assert not json_has_nul(hostile(UNCLOSED, 4_000_000))


@pytest.fixture
def strict_client():
    return Client(enforce_csrf_checks=True)


HOSTILE_URLS = ["/accounts/login/", "/api/studies/1/responses", "/s/some-token/page/1/", "/"]


@pytest.mark.django_db
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_2_mb_hostile_body_to_any_url_gets_a_4xx_in_under_a_second(
    strict_client, url, content_type
):
    body = hostile(UNCLOSED, 2_400_000)  # just under Django's 2.5 MB in-memory cap: scanned in full
    strict_client.post(url, "{}", content_type=content_type)  # warm: URL conf, templates
    with at_most(10):
        start = time.perf_counter()
        response = strict_client.post(url, body, content_type=content_type)
        seconds = time.perf_counter() - start
    assert 400 <= response.status_code < 500, response.status_code
    assert seconds < 1.0, seconds


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "application/fhir+json"]
)
@pytest.mark.parametrize("url", [*HOSTILE_URLS, "/api/survey/some-token/fhir"])
def test_a_10_mb_hostile_body_to_any_url_gets_a_4xx_in_under_a_second(
    strict_client, url, content_type
):
    body = hostile(UNCLOSED, 10 * 1024 * 1024)
    strict_client.post(url, "{}", content_type=content_type)  # warm: URL conf, templates
    with at_most(10):
        start = time.perf_counter()
        response = strict_client.post(url, body, content_type=content_type)
        seconds = time.perf_counter() - start
    assert 400 <= response.status_code < 500, response.status_code
    assert seconds < 1.0, seconds
