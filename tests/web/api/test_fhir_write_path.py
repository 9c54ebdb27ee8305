"""The FHIR write path follows the survey's one write rule (current consent, not completed)
and its replay detection keys on the client's identifier of the submission."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from fibrosurvey.fhir import questionnaire_response
from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.survey.models import Response
from fibrosurvey.web.survey.services import do_record_consent

ANSWERS_A = {f"phq9_{i}": v for i, v in enumerate([1, 2, 0, 3, 1, 0, 2, 1, 0, 1], start=1)}
ANSWERS_B = {f"phq9_{i}": v for i, v in enumerate([3, 3, 3, 3, 3, 3, 3, 3, 0, 2], start=1)}


@pytest.fixture
def consented(issued):
    do_record_consent(issued.invitation, language="en")
    return issued


def _post(client, token, answers, identifier=None, **headers):
    resource = questionnaire_response(answers, "phq9", "Patient/x")
    if identifier is not None:
        resource["identifier"] = {"system": "urn:example:app", "value": identifier}
    return client.post(
        f"/api/survey/{token}/fhir",
        json.dumps(resource),
        content_type="application/fhir+json",
        headers=headers,
    )


def _stored(participant):
    return Response.objects.get(participant=participant, instrument_id="phq9").answers


def test_after_the_study_changes_its_consent_a_fhir_submission_is_refused_naming_the_consent(
    client, consented, study, participant
):
    study.consent_version = "2.0"
    study.save(update_fields=["consent_version"])

    refused = _post(client, consented.token, ANSWERS_A)

    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert "consent" in detail and "2.0" in detail and "1.0" in detail
    assert not Response.objects.filter(participant=participant).exists()


def test_after_the_participant_accepts_the_new_consent_the_fhir_submission_is_stored(
    client, consented, study, participant
):
    study.consent_version = "2.0"
    study.save(update_fields=["consent_version"])
    consented.invitation.participant.refresh_from_db()
    do_record_consent(consented.invitation, language="en")

    assert _post(client, consented.token, ANSWERS_A).status_code == 201
    assert _stored(participant) == ANSWERS_A


def test_answers_a_then_b_then_a_again_store_a(client, consented, participant):
    statuses = [_post(client, consented.token, a).status_code for a in (ANSWERS_A, ANSWERS_B)]
    third = _post(client, consented.token, ANSWERS_A)

    assert statuses == [201, 201] and third.status_code == 201
    assert third.json()["replayed"] is False
    assert _stored(participant) == ANSWERS_A
    latest = AuditRecord.objects.filter(object_type="survey.response").order_by("id").last()
    assert latest.after["answers"] == ANSWERS_A


def test_answers_a_b_a_with_distinct_identifiers_store_a(client, consented, participant):
    for number, answers in enumerate((ANSWERS_A, ANSWERS_B, ANSWERS_A)):
        assert (
            _post(client, consented.token, answers, identifier=f"sub-{number}").status_code == 201
        )
    assert _stored(participant) == ANSWERS_A


def test_a_retry_with_the_same_identifier_stores_exactly_one_and_says_replayed(
    client, consented, participant
):
    first = _post(client, consented.token, ANSWERS_A, identifier="sub-1")
    retry = _post(client, consented.token, ANSWERS_A, identifier="sub-1")

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["replayed"] is True
    assert Response.objects.filter(participant=participant).count() == 1
    audited = AuditRecord.objects.filter(object_type="survey.response").count()
    _post(client, consented.token, ANSWERS_A, identifier="sub-1")
    assert AuditRecord.objects.filter(object_type="survey.response").count() == audited


def test_a_late_retry_of_an_older_submission_does_not_undo_a_newer_one(
    client, consented, participant
):
    _post(client, consented.token, ANSWERS_A, identifier="sub-1")
    _post(client, consented.token, ANSWERS_B, identifier="sub-2")
    late = _post(client, consented.token, ANSWERS_A, identifier="sub-1")

    assert late.status_code == 200 and late.json()["replayed"] is True
    assert _stored(participant) == ANSWERS_B


def test_the_idempotency_key_header_names_the_submission(client, consented, participant):
    first = _post(client, consented.token, ANSWERS_A, **{"Idempotency-Key": "k-1"})
    retry = _post(client, consented.token, ANSWERS_A, **{"Idempotency-Key": "k-1"})
    newer = _post(client, consented.token, ANSWERS_B, **{"Idempotency-Key": "k-2"})

    assert (first.status_code, retry.status_code, newer.status_code) == (201, 200, 201)
    assert _stored(participant) == ANSWERS_B


def test_an_identifier_without_a_text_value_is_a_400_naming_the_field(client, consented):
    resource = questionnaire_response(ANSWERS_A, "phq9", "Patient/x")
    resource["identifier"] = {"system": "urn:example:app", "value": 42}
    response = client.post(
        f"/api/survey/{consented.token}/fhir", json.dumps(resource), "application/fhir+json"
    )
    assert response.status_code == 400
    [problem] = response.json()["problems"]
    assert problem["column"] == "QuestionnaireResponse.identifier" and "value" in problem["allowed"]
    assert not Response.objects.exists()


def test_a_fhir_submission_to_a_completed_survey_is_refused_until_staff_reopen_it(
    client, consented, participant
):
    invitation = consented.invitation
    invitation.completed_at = timezone.now()
    invitation.save(update_fields=["completed_at"])

    refused = _post(client, consented.token, ANSWERS_A)

    assert refused.status_code == 409 and "complete" in refused.json()["detail"]
    assert not Response.objects.filter(participant=participant).exists()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_retries_with_one_identifier_store_exactly_one(issued, participant):
    """PostgreSQL: three copies of one submission at the same moment (a client retrying)."""
    import threading

    from django.db import connection, connections

    from fibrosurvey.web.api.services import do_submit_fhir_response
    from fibrosurvey.web.participants.models import Invitation

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; run with DATABASE_URL=postgres://...")
    do_record_consent(issued.invitation, language="en")
    resource = questionnaire_response(ANSWERS_A, "phq9", "Patient/x")
    resource["identifier"] = {"system": "urn:example:app", "value": "one-submission"}
    barrier = threading.Barrier(3)
    results: list[object] = []

    def submit() -> None:
        try:
            invitation = Invitation.objects.select_related(
                "participant", "participant__study", "event"
            ).get(pk=issued.invitation.pk)
            barrier.wait(timeout=10)
            results.append(do_submit_fhir_response(invitation, resource))
        except Exception as error:  # surfaced by the assertion below
            results.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.replayed for r in results) == [False, True, True]
    assert _stored(participant) == ANSWERS_A
    assert AuditRecord.objects.filter(object_type="survey.response", action="create").count() == 1
