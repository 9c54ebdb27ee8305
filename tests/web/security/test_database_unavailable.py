"""A database out of reach (restart, failover) answers 503 + Retry-After, never a 500.

The real fault is exercised by ``benchmarks/faults.py pg-restart``; here the database error
is raised where the first query of a request would meet it.
"""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from fibrosurvey.web.survey import views as survey_views


@pytest.fixture
def unreachable_database(monkeypatch):
    def refuse(token):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(survey_views, "find_invitation", refuse)


def test_a_participant_meets_a_friendly_503_with_retry_after(issued, unreachable_database):
    client = Client(raise_request_exception=False)
    response = client.get(reverse("survey:entry", args=[issued.token]))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Cache-Control"] == "no-store"
    assert "Your answers so far are saved" in response.content.decode()


def test_the_503_page_speaks_the_browsers_language(issued, unreachable_database):
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="es")
    response = client.get(reverse("survey:entry", args=[issued.token]))
    assert response.status_code == 503
    assert "Sus respuestas hasta ahora están guardadas" in response.content.decode()


def test_any_other_error_is_still_a_500(issued, monkeypatch):
    def broken(token):
        raise RuntimeError("a bug")

    monkeypatch.setattr(survey_views, "find_invitation", broken)
    response = Client(raise_request_exception=False).get(
        reverse("survey:entry", args=[issued.token])
    )
    assert response.status_code == 500
