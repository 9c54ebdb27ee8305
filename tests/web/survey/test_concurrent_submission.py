"""Two copies of the same page saved at the same moment (PostgreSQL: real concurrency)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from fibrosurvey.web.participants.models import Invitation
from fibrosurvey.web.survey.models import PageSubmission, Response
from fibrosurvey.web.survey.rules import AnswersRefused
from fibrosurvey.web.survey.services import do_record_consent, do_save_page, survey_pages


def _race(issued, nonces: list[str], *, last_page: bool = False) -> list[object]:
    pages = survey_pages(issued.invitation)
    page = pages[-1] if last_page else pages[0]
    moving_to = len(pages) if last_page else 1
    raw = dict.fromkeys(page.columns, "1")
    barrier = threading.Barrier(len(nonces))
    results: list[object] = []

    def submit(nonce: str) -> None:
        try:
            invitation = Invitation.objects.select_related(
                "participant", "participant__study", "event"
            ).get(pk=issued.invitation.pk)
            barrier.wait(timeout=10)
            results.append(
                do_save_page(invitation, page, raw, nonce=nonce, moving_to=moving_to, pages=pages)
            )
        except Exception as error:  # surfaced by the assertion below
            results.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(n,)) for n in nonces]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("nonces", [["same", "same", "same"], ["tab-a", "tab-b", "tab-c"]])
def test_simultaneous_submissions_store_exactly_one_response(issued, nonces):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; run with DATABASE_URL=postgres://...")
    do_record_consent(issued.invitation, language="en")
    results = _race(issued, nonces)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Response.objects.count() == 1
    assert PageSubmission.objects.count() == len(set(nonces))
    if len(set(nonces)) == 1:
        assert sum(1 for r in results if r.replayed) == len(nonces) - 1


@pytest.mark.django_db(transaction=True)
def test_the_last_page_finished_from_three_tabs_at_once_completes_once_and_refuses_the_rest(
    issued,
):
    """Once one tab has finished the survey, the link is closed: the other copies are refused
    (rolled back) instead of changing answers after completion."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; run with DATABASE_URL=postgres://...")
    do_record_consent(issued.invitation, language="en")
    results = _race(issued, ["tab-a", "tab-b", "tab-c"], last_page=True)

    completed = [r for r in results if not isinstance(r, Exception) and r.completed_survey]
    refused = [r for r in results if isinstance(r, AnswersRefused)]
    assert (len(completed), len(refused)) == (1, 2), results
    assert refused[0].refusal.reason == "completed"
    assert PageSubmission.objects.count() == 1
    assert Invitation.objects.get(pk=issued.invitation.pk).completed_at is not None
