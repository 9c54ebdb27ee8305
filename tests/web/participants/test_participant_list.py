"""The participant list by status per event: counts, filter, sort, pages, and a query count
that does not grow with the number of participants."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fibrosurvey.web.participants.enrolment import do_enrol_participant
from fibrosurvey.web.participants.invitations import do_issue_invitation
from fibrosurvey.web.participants.models import Invitation
from fibrosurvey.web.recruitment.models import QualityFlag, Visit


def _one_of_each(study):
    """Six participants at north, one per status for baseline; returns {status: code}."""
    north = study.sites.get(code="north")
    baseline = study.events.get(code="baseline")
    now = timezone.now()
    made = {}
    for status in ("not_started", "in_progress", "completed", "overdue", "withdrawn", "flagged"):
        participant = do_enrol_participant(study, site=north, actor=None, email="x@example.org")
        made[status] = participant.study_code
        if status == "not_started":
            continue
        issued = do_issue_invitation(participant, baseline, send=False)
        rows = Invitation.objects.filter(pk=issued.invitation.pk)
        if status == "in_progress":
            rows.update(opened_at=now)
        elif status in ("completed", "flagged"):
            rows.update(opened_at=now, completed_at=now)
        elif status == "overdue":
            rows.update(created_at=now - timedelta(days=8), opened_at=now - timedelta(days=8))
        elif status == "withdrawn":
            participant.withdrawn_at = now
            participant.save()
        if status == "flagged":
            visit = Visit.objects.create(
                study=study, key=f"k{participant.pk}", device_hash="d", participant=participant
            )
            QualityFlag.objects.create(visit=visit, reason="honeypot")
    return made


def _listed_codes(page, codes):
    return [code for code in sorted(codes, key=page.index) if code in page]


def test_each_status_is_counted_and_filterable(study, login):
    made = _one_of_each(study)
    url = reverse("participants:list", args=[study.pk])
    carol = login("carol")

    page = carol.get(url, {"event": "baseline"}).content.decode()

    for status in made:
        assert f'status={status}&amp;sort=status">' in page
    assert 'all <span class="count">6</span>' in page
    for label in ("not started", "in progress", "completed", "overdue", "withdrawn", "flagged"):
        assert f'{label} <span class="count">1</span>' in page, label
    for status, code in made.items():
        filtered = carol.get(url, {"event": "baseline", "status": status}).content.decode()
        shown = [c for c in made.values() if f">{c}</a>" in filtered]
        assert shown == [code], status


def test_sorted_by_status_the_overdue_come_first_and_the_withdrawn_last(study, login):
    made = _one_of_each(study)
    page = (
        login("carol")
        .get(reverse("participants:list", args=[study.pk]), {"event": "baseline"})
        .content.decode()
    )

    order = sorted(made, key=lambda status: page.index(f">{made[status]}</a>"))

    assert order == [
        "overdue",
        "not_started",
        "in_progress",
        "completed",
        "flagged",
        "withdrawn",
    ]


def test_the_followup_event_has_its_own_statuses(study, login):
    made = _one_of_each(study)
    page = (
        login("carol")
        .get(reverse("participants:list", args=[study.pk]), {"event": "followup_3m"})
        .content.decode()
    )

    # Nobody is invited to the follow-up: all but the withdrawn and flagged have not started.
    assert 'not started <span class="count">4</span>' in page
    assert made  # statuses per event, not per participant


def test_the_list_takes_the_same_number_of_queries_for_10_or_60_participants(study, login):
    north = study.sites.get(code="north")
    baseline = study.events.get(code="baseline")
    carol = login("carol")
    url = reverse("participants:list", args=[study.pk])

    def queries_for(n):
        while study.participants.count() < n:
            participant = do_enrol_participant(study, site=north, actor=None)
            do_issue_invitation(participant, baseline, send=False)
        with CaptureQueriesContext(connection) as captured:
            response = carol.get(url, {"event": "baseline", "sort": "status"})
        assert response.status_code == 200
        return len(captured.captured_queries)

    small, large = queries_for(10), queries_for(60)

    # Session, user, two-factor policy, membership, events, counts, page count, page, the
    # invitations prefetch: none of them per participant (60 fill two pages of 50).
    assert small == large <= 15


def test_a_site_limited_coordinator_counts_only_their_site(
    study, participant, participant_south, login
):
    page = (
        login("sam")
        .get(reverse("participants:list", args=[study.pk]), {"event": "baseline"})
        .content.decode()
    )

    assert 'all <span class="count">1</span>' in page
    assert participant_south.study_code in page and participant.study_code not in page


def test_paging_keeps_the_filter(study, login):
    north = study.sites.get(code="north")
    for _ in range(55):
        do_enrol_participant(study, site=north, actor=None)

    page = (
        login("carol")
        .get(
            reverse("participants:list", args=[study.pk]),
            {"event": "baseline", "status": "not_started"},
        )
        .content.decode()
    )

    assert "Page 1 of 2" in page
    assert "?event=baseline&amp;status=not_started&amp;sort=status&amp;page=2" in page
