"""Screening at the same moment (PostgreSQL: real concurrency): a quota is never overtaken and
a visit is never screened twice."""

from __future__ import annotations

import copy
import threading

import pytest
from django.db import connection, connections

from fibrosurvey.recruitment import DEFAULT_SCREENER
from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.recruitment.models import OpenLink, Visit
from fibrosurvey.web.recruitment.services import do_open_recruitment, do_screen, do_start_visit
from tests.web.recruitment.conftest import ELIGIBLE

pytestmark = pytest.mark.django_db(transaction=True)


def _race(link_id: int, visit_ids: list[int]) -> list[object]:
    barrier = threading.Barrier(len(visit_ids))
    results: list[object] = []

    def screen(visit_id: int) -> None:
        try:
            link = OpenLink.objects.select_related("study", "site").get(pk=link_id)
            visit = Visit.objects.get(pk=visit_id)
            barrier.wait(timeout=10)
            results.append(do_screen(link, visit, ELIGIBLE, honeypot=""))
        except Exception as error:  # surfaced by the assertions
            results.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=screen, args=(v,)) for v in visit_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _link(study, users, limit: int) -> OpenLink:
    config = copy.deepcopy(DEFAULT_SCREENER)
    config["quotas"] = [{"name": "women", "question": "sex", "values": ["female"], "limit": limit}]
    return do_open_recruitment(study, actor=users["alice"], slug="race", screener=config)


def test_four_eligible_visitors_at_once_fill_a_quota_of_two_exactly(study, users):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; run with DATABASE_URL=postgres://...")
    link = _link(study, users, limit=2)
    visits = [
        do_start_visit(link, source="", device_cookie=f"device-{n}", language="en").pk
        for n in range(4)
    ]
    results = _race(link.pk, visits)
    assert not [r for r in results if isinstance(r, Exception)], results
    outcomes = sorted(Visit.objects.values_list("outcome", flat=True))
    assert outcomes == ["enrolled", "enrolled", "quota_full", "quota_full"]
    assert Participant.objects.count() == 2


def test_one_visit_screened_from_three_tabs_at_once_enrols_one_participant(study, users):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; run with DATABASE_URL=postgres://...")
    link = _link(study, users, limit=10)
    visit = do_start_visit(link, source="", device_cookie="one-phone", language="en")
    results = _race(link.pk, [visit.pk] * 3)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Participant.objects.count() == 1
    assert all(r.token for r in results)  # every tab is led to consent
