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


def straight_answer(item):
    """The lowest answer to everything: a straight line."""
    if item.kind == "choice":
        return item.codes[0]
    return int(item.minimum)


def varied_answer(item):
    """A fixed, varied answer per item (PHQ-9 item 9 = 0: no safety page on the way)."""
    import zlib

    if item.column == "phq9_9":
        return 0
    spread = zlib.crc32(item.column.encode())
    if item.kind == "choice":
        return item.codes[spread % len(item.codes)]
    low, high = int(item.minimum), int(item.maximum)
    return low + spread % (min(high, low + 10) - low + 1)


def start_and_complete(client, token, answer, *, page_seconds=None):
    """Consent, skip contact, answer every page with ``answer(item)`` and finish; with
    ``page_seconds`` the stored submission times are spread that far apart."""
    from django.utils import timezone

    from fibrosurvey.web.participants.invitations import find_invitation
    from fibrosurvey.web.survey.models import PageSubmission
    from fibrosurvey.web.survey.pages import battery_logic
    from fibrosurvey.web.survey.services import survey_pages

    client.post(reverse("recruitment:consent", args=[token]), {"agree": "yes"})
    client.post(reverse("recruitment:contact", args=[token]), {"action": "skip"})
    invitation = find_invitation(token)
    pages = survey_pages(invitation)
    logic = battery_logic(tuple(pages))
    given: dict[str, object] = {}
    for page in pages:
        # Only the questions skip logic asks, given the answers so far (as a participant sees).
        hidden = logic.disabled_columns(given)
        asked = [item for item in page.items if item.column not in hidden]
        if not asked:
            continue
        values = {item.column: answer(item) for item in asked}
        given |= values
        body = {column: str(value) for column, value in values.items()}
        reply = client.post(
            reverse("survey:page", args=[token, page.index + 1]), body | {"nonce": f"n{page.index}"}
        )
        assert reply.status_code == 302, (page.index, reply.status_code)
    if page_seconds is not None:
        start = timezone.now() - timedelta(seconds=page_seconds * (len(pages) + 1))
        participant = invitation.participant
        type(participant).objects.filter(pk=participant.pk).update(consented_at=start)
        for n, submission in enumerate(
            PageSubmission.objects.filter(invitation=invitation).order_by("id"), start=1
        ):
            PageSubmission.objects.filter(pk=submission.pk).update(
                submitted_at=start + timedelta(seconds=page_seconds * n)
            )
    invitation.refresh_from_db()
    assert invitation.completed_at is not None
    return invitation


def database_flow_counts(study):
    """The participant flow counted straight from the tables, without the flow code."""
    from fibrosurvey.web.participants.models import Invitation, Participant
    from fibrosurvey.web.recruitment.models import Visit
    from fibrosurvey.web.survey.models import Response

    visits = Visit.objects.filter(study=study)
    enrolled = Participant.objects.filter(study=study, recruitment__isnull=False)
    completed = Invitation.objects.filter(
        participant__in=enrolled, event__code="baseline", completed_at__isnull=False
    )
    return {
        "visited": visits.count(),
        "screened": visits.filter(screened_at__isnull=False).count(),
        "eligible": visits.filter(eligible=True).count(),
        "enrolled": enrolled.count(),
        "consented": enrolled.filter(consented_at__isnull=False).count(),
        "started": Response.objects.filter(participant__in=enrolled)
        .values("participant")
        .distinct()
        .count(),
        "completed": completed.count(),
        "analysed": completed.exclude(participant__recruitment__flags__isnull=False).count(),
    }
