"""Two copies of the same page saved at the same moment (PostgreSQL: real concurrency)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from fibrosurvey.web.participants.models import Invitation
from fibrosurvey.web.survey.models import PageSubmission, Response
from fibrosurvey.web.survey.services import do_save_page, survey_pages


def _race(issued, nonces: list[str]) -> list[object]:
    page = survey_pages(issued.invitation)[0]
    raw = dict.fromkeys(page.columns, "1")
    barrier = threading.Barrier(len(nonces))
    results: list[object] = []

    def submit(nonce: str) -> None:
        try:
            invitation = Invitation.objects.select_related(
                "participant", "participant__study", "event"
            ).get(pk=issued.invitation.pk)
            barrier.wait(timeout=10)
            results.append(do_save_page(invitation, page, raw, nonce=nonce, moving_to=1))
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
    results = _race(issued, nonces)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Response.objects.count() == 1
    assert PageSubmission.objects.count() == len(set(nonces))
    if len(set(nonces)) == 1:
        assert sum(1 for r in results if r.replayed) == len(nonces) - 1
