"""A page submitted twice, replayed, or sent from two tabs stores exactly one response."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.survey.models import PageSubmission, Response
from fibrosurvey.web.survey.services import survey_pages


@pytest.fixture
def started(client, issued):
    client.post(reverse("survey:consent", args=[issued.token]), {"agree": "yes"})
    client.post(reverse("survey:language", args=[issued.token]), {"language": "en"})
    return issued


def _post_first_page(client, token, page, nonce, value="1"):
    return client.post(
        reverse("survey:page", args=[token, 1]),
        {c: value for c in page.columns} | {"nonce": nonce, "action": "next"},
    )


def test_replayed_page_with_the_same_nonce_stores_one_response_and_one_audit_record(
    client, started
):
    page = survey_pages(started.invitation)[0]
    first = _post_first_page(client, started.token, page, nonce="same-nonce")
    replay = _post_first_page(client, started.token, page, nonce="same-nonce", value="0")

    assert first.status_code == replay.status_code == 302
    assert Response.objects.count() == 1
    stored = Response.objects.get()
    assert all(stored.answers[c] == 1 for c in page.columns)  # the replay changed nothing
    assert PageSubmission.objects.filter(nonce="same-nonce").count() == 1
    assert AuditRecord.objects.filter(object_type="survey.response").count() == 1


def test_same_page_from_two_tabs_updates_the_one_response(client, started):
    page = survey_pages(started.invitation)[0]
    _post_first_page(client, started.token, page, nonce="tab-1", value="1")
    _post_first_page(client, started.token, page, nonce="tab-2", value="1")
    _post_first_page(client, started.token, page, nonce="tab-3", value="0")

    assert Response.objects.count() == 1
    assert all(Response.objects.get().answers[c] == 0 for c in page.columns)
    # create, (no change: no record), update
    actions = list(
        AuditRecord.objects.filter(object_type="survey.response")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update"]


def test_database_refuses_a_second_response_for_the_same_instrument(started, participant):
    event = started.invitation.event
    Response.objects.create(
        participant=participant, event=event, instrument_id="phq9", instrument_version="1.0.0"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(
            participant=participant, event=event, instrument_id="phq9", instrument_version="1.0.0"
        )
