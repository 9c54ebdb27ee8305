"""The de-identified export (HIPAA Safe Harbor): no stored identifier anywhere in it, ages
over 89 shown as 90 ("90 or older"), no free-text columns, formula cells neutralised."""

from __future__ import annotations

import io

import polars as pl
import pytest
from django.urls import reverse

from fibrosurvey.dataset import DESIGN_COLUMNS, ID_COLUMNS, PREANALYTICAL_COLUMNS
from fibrosurvey.web.participants.models import ContactDetails, Participant
from fibrosurvey.web.survey.models import Response


def _export(client, study, fmt="csv") -> bytes:
    response = client.get(reverse("exports:download", args=[study.pk, fmt]))
    assert response.status_code == 200
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


@pytest.fixture
def very_old(cohort, participant):
    study, _data = cohort
    demo = Response.objects.filter(participant__study=study, instrument_id="demo").first()
    demo.answers = {**demo.answers, "demo_age": 97}
    demo.save()
    return demo.participant


def test_no_stored_identifier_appears_in_any_export(cohort, login, participant, issued):
    study, _ = cohort
    identifiers = {issued.token, issued.invitation.token_hash}
    for contact in ContactDetails.objects.filter(participant__study=study):
        identifiers |= {v for v in (contact.email, contact.phone, contact.name) if v}
        if contact.phone:
            identifiers.add(contact.phone.replace(" ", ""))
    from django.contrib.auth import get_user_model

    for user in get_user_model().objects.all():
        identifiers |= {user.email}
    assert len(identifiers) > 5
    client = login("anna")
    for fmt in ("csv", "parquet", "fhir", "dictionary"):
        content = _export(client, study, fmt)
        for identifier in identifiers:
            assert identifier.encode() not in content, (fmt, identifier)


def test_ages_over_89_are_exported_as_90(very_old, cohort, login):
    study, _ = cohort
    frame = pl.read_csv(io.BytesIO(_export(login("anna"), study)), infer_schema_length=None)
    ages = frame.filter(pl.col("demo_age").is_not_null())["demo_age"]
    assert ages.max() <= 90
    row = frame.filter(
        (pl.col("participant_id") == very_old.study_code) & pl.col("demo_age").is_not_null()
    )
    assert row["demo_age"].to_list() == [90]


def test_the_export_has_no_free_text_or_contact_columns(cohort, login):
    study, _ = cohort
    frame = pl.read_csv(io.BytesIO(_export(login("anna"), study)), infer_schema_length=None)
    for column in frame.columns:
        assert not any(word in column for word in ("name", "email", "phone", "note", "comment"))
    text_columns = {c for c, t in frame.schema.items() if t == pl.String}
    allowed_text = {
        *ID_COLUMNS,
        *DESIGN_COLUMNS,
        *PREANALYTICAL_COLUMNS,
        "enrolled_date",
        "event_date",
        "withdrawn_date",
        "phq9_band",
        "gad7_band",
        "scoring_versions",
    }
    assert text_columns <= allowed_text, text_columns - allowed_text
    assert Participant.objects.filter(study=study).count() > 5
