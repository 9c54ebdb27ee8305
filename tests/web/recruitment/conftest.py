"""Open-recruitment fixtures: ``open_link`` (the study's public link, sources
"patient-newsletter" and "clinic-poster", the default screener) and ``visit_and_screen``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

ELIGIBLE = {
    "age": "45",
    "diagnosis": "yes",
    "pain_3_months": "yes",
    "years_with_pain": "6",
    "country": "ES",
    "sex": "female",
}


@pytest.fixture
def open_link(study, users):
    from fibrosurvey.web.recruitment.services import do_open_recruitment

    return do_open_recruitment(
        study,
        actor=users["alice"],
        slug="fibro-survey",
        site=study.sites.get(code="north"),
        sources=["patient-newsletter", "clinic-poster"],
    )


@pytest.fixture
def visit_and_screen(open_link):
    """``visit_and_screen(client, answers, src=..., seconds=...)``: the landing page, then the
    screener posted as if the visitor took ``seconds`` on it; returns the screener reply."""
    from fibrosurvey.web.recruitment.models import Visit

    def _go(client, answers=None, *, src="", seconds=30, honeypot="", lang=""):
        query = "&".join(
            p for p in (f"src={src}" if src else "", f"lang={lang}" if lang else "") if p
        )
        landing = client.get(reverse("recruitment:landing", args=[open_link.slug]) + "?" + query)
        assert landing.status_code == 200
        visit = Visit.objects.latest("id")
        Visit.objects.filter(pk=visit.pk).update(
            visited_at=visit.visited_at - timedelta(seconds=seconds)
        )
        body = dict(ELIGIBLE if answers is None else answers) | {"website": honeypot}
        return client.post(reverse("recruitment:screener", args=[open_link.slug]), body)

    return _go
