"""Survey-link tokens are redacted from every log line (the handlers Django configured from
settings.LOGGING). gunicorn's access log: test_gunicorn_limits_and_logs.py."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from fibrosurvey.web.ops.redact import redact_link_tokens

TOKEN = "Zq7-x_9kLmN0pQrStUvWxYz12345678AbCdEfGhIj"


@contextmanager
def _configured_handlers_into(stream: io.StringIO) -> Iterator[None]:
    """Every stream handler Django configured writes into ``stream`` (filters unchanged)."""
    handlers = [
        handler
        for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
        if isinstance(logger, logging.Logger)
        for handler in logger.handlers
        if type(handler) is logging.StreamHandler
    ]
    assert handlers, "no stream handler configured"
    previous = [handler.setStream(stream) for handler in handlers]
    try:
        yield
    finally:
        for handler, old in zip(handlers, previous, strict=True):
            handler.setStream(old)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Not Found: /s/TOKEN/", "Not Found: /s/[token]/"),
        ("Not Found: /s/TOKEN", "Not Found: /s/[token]"),
        ('"POST /s/TOKEN/page/3/?x=1 HTTP/1.1" 302', '"POST /s/[token]/page/3/?x=1 HTTP/1.1" 302'),
        ("POST /api/survey/TOKEN/fhir", "POST /api/survey/[token]/fhir"),
        (
            "GET /accounts/login/?next=%2Fs%2FTOKEN%2Fdone%2F",
            "GET /accounts/login/?next=%2Fs%2F[token]%2Fdone%2F",
        ),
        (
            '"https://survey.example.org/s/TOKEN/consent/"',
            '"https://survey.example.org/s/[token]/consent/"',
        ),
        ("GET /studies/12/s/ HTTP/1.1", "GET /studies/12/s/ HTTP/1.1"),
    ],
)
def test_tokens_are_cut_from_paths_queries_and_referers(line, expected):
    assert redact_link_tokens(line.replace("TOKEN", TOKEN)) == expected


def test_djangos_not_found_warning_carries_no_token(client, db):
    output = io.StringIO()
    with _configured_handlers_into(output):
        assert client.get(f"/s/{TOKEN}/page/2/").status_code == 404
        assert client.get(f"/api/survey/{TOKEN}/fhir").status_code in {404, 405}
    text = output.getvalue()
    assert "Not Found: /s/[token]/page/2/" in text
    assert "/api/survey/[token]/fhir" in text
    assert TOKEN not in text


def test_an_exception_logged_with_a_token_in_its_text_is_redacted():
    output = io.StringIO()
    with _configured_handlers_into(output):
        try:
            raise ValueError(f"no invitation for /s/{TOKEN}/")
        except ValueError:
            logging.getLogger("fibrosurvey.test").exception("request /s/%s/ failed", TOKEN)
    text = output.getvalue()
    assert "request /s/[token]/ failed" in text
    assert "ValueError: no invitation for /s/[token]/" in text
    assert TOKEN not in text
