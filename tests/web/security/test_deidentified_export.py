"""The de-identified export (HIPAA Safe Harbor): no stored identifier anywhere in it, ages
over 89 shown as 90 ("90 or older"), no free-text columns, formula cells neutralised."""

from __future__ import annotations

import datetime as dt
import io
import re

import polars as pl
import pytest
from django.urls import reverse

from fibrosurvey.dataset import DESIGN_COLUMNS, ID_COLUMNS, PREANALYTICAL_COLUMNS
from fibrosurvey.scoring.status import ITEM_STATUSES, STATUS_SUFFIX
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
    # A column with no value at all (an item the cohort never answered) carries no text.
    text_columns = {
        c
        for c, t in frame.schema.items()
        if t == pl.String and frame[c].null_count() < frame.height
    }
    allowed_text = {
        *ID_COLUMNS,
        *DESIGN_COLUMNS,
        *PREANALYTICAL_COLUMNS,
        "enrolled_date",
        "event_date",
        "withdrawn_date",
        "consent_version",
        "phq9_band",
        "gad7_band",
        "scoring_versions",
    }
    # Status columns are text from a closed vocabulary, never what a participant typed.
    status_columns = {c for c in text_columns if c.endswith(STATUS_SUFFIX)}
    for column in status_columns:
        assert set(frame[column].drop_nulls().unique()) <= set(ITEM_STATUSES), column
    assert text_columns - status_columns <= allowed_text, text_columns - allowed_text
    assert Participant.objects.filter(study=study).count() > 5


# --- every output path, one walk (issue 10 #4 and #8) ------------------------------------------

_TIMESTAMP = re.compile(rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _body(response) -> bytes:
    assert response.status_code == 200, (response.status_code, response.content[:300])
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _table_text(content: bytes, kind: str) -> tuple[bytes, pl.DataFrame]:
    """A tabular output as CSV text (dates as they read) and as a frame."""
    if kind == "parquet":
        frame = pl.read_parquet(io.BytesIO(content))
        return frame.write_csv().encode(), frame
    frame = pl.read_csv(io.BytesIO(content), infer_schema_length=None)
    return content, frame


@pytest.fixture
def withdrawn(cohort, users):
    from fibrosurvey.web.participants.withdrawal import do_withdraw_participant

    study, _ = cohort
    who = (
        Participant.objects.filter(study=study, responses__isnull=False)
        .distinct()
        .order_by("-pk")
        .first()
    )
    return do_withdraw_participant(who, actor=users["carol"], kind="no_further_contact")


@pytest.fixture
def analysis_dataset(monkeypatch):
    """Runs analyses up to the memory-capped child process and keeps the dataset it is sent."""
    from fibrosurvey.web.analyses import services

    captured: dict[str, pl.DataFrame] = {}

    def keep(memory_mb, *, frame, **kwargs):
        captured["frame"] = frame
        raise ValueError("dataset captured")

    monkeypatch.setattr(services, "run_in_child", keep)
    monkeypatch.setenv("FIBROSURVEY_ANALYSIS_IN_PROCESS", "0")
    return captured


def test_every_output_path_is_deidentified_and_carries_the_withdrawal(
    cohort, very_old, withdrawn, participant, issued, login, api_client, users, analysis_dataset
):
    import json

    from django.utils import timezone

    from fibrosurvey.fhir import read_bundle
    from fibrosurvey.fhir.models import Bundle, validated
    from fibrosurvey.web.analyses.services import do_request_analysis, process_queued
    from fibrosurvey.web.exports.dataset import date_offset_days
    from fibrosurvey.web.exports.models import study_secret
    from fibrosurvey.web.exports.writers import WITHDRAWAL_EXTENSION

    study, _ = cohort
    base = f"/api/studies/{study.pk}"
    identifiers = {issued.token, issued.invitation.token_hash}
    for contact in ContactDetails.objects.filter(participant__study=study):
        identifiers |= {v for v in (contact.email, contact.phone, contact.name) if v}
    assert "maria.lopez@example.org" in identifiers
    today = timezone.now().date()
    real_days = {str(today), str(today - dt.timedelta(days=1)), str(today + dt.timedelta(days=1))}
    secret = study_secret(study)
    shifted_withdrawal = str(
        withdrawn.withdrawn_at.date()
        + dt.timedelta(days=date_offset_days(secret, withdrawn.study_code))
    )

    outputs: dict[str, bytes] = {}
    web = login("anna")
    for fmt in ("csv", "parquet", "fhir", "dictionary"):
        outputs[f"web {fmt}"] = _body(web.get(reverse("exports:download", args=[study.pk, fmt])))
    anna = api_client("anna")
    for fmt in ("csv", "parquet", "fhir", "dictionary"):
        outputs[f"api {fmt}"] = _body(anna.get(f"{base}/exports/{fmt}"))
    outputs["api responses"] = _body(anna.get(f"{base}/responses?limit=1000"))
    one = Response.objects.filter(participant=very_old, instrument_id="demo").first()
    outputs["api response"] = _body(anna.get(f"{base}/responses/{one.pk}"))
    outputs["api participants"] = _body(api_client("alice").get(f"{base}/participants?limit=1000"))
    do_request_analysis(study.memberships.get(user=users["anna"]), actor=users["anna"])
    [run] = process_queued()
    analysed = analysis_dataset["frame"]
    outputs["analysis dataset"] = analysed.write_csv().encode()

    # 1. No contact detail, token, real date or timestamp anywhere.
    for name, content in outputs.items():
        text = _table_text(content, "parquet")[0] if "parquet" in name else content
        for identifier in identifiers:
            assert identifier.encode() not in text, (name, identifier)
        for day in real_days:
            assert day.encode() not in text, (name, day)
        assert not _TIMESTAMP.search(text), (name, _TIMESTAMP.search(text))

    # 2. No age above 89, in the tables, the FHIR answers and the API's answers.
    for name in ("web csv", "web parquet", "api csv", "api parquet"):
        _, frame = _table_text(outputs[name], "parquet" if "parquet" in name else "csv")
        assert frame["demo_age"].max() == 90, name
        mine = frame.filter(pl.col("participant_id") == very_old.study_code)
        assert mine["demo_age"].drop_nulls().to_list() == [90], name
        # 3. The withdrawal, shifted like every other date.
        gone = frame.filter(pl.col("participant_id") == withdrawn.study_code)
        assert gone.height and set(gone["withdrawn"]) == {1}, name
        assert {str(d) for d in gone["withdrawn_date"]} == {shifted_withdrawal}, name
        assert set(frame.filter(pl.col("participant_id") != withdrawn.study_code)["withdrawn"]) == {
            0
        }
    assert analysed["demo_age"].max() == 90
    # The analysis reads the export as it is: its only dates are the export's shifted dates
    # (step 1 found no real day in them), never a timestamp.
    temporal = {c for c, dtype in analysed.schema.items() if dtype.is_temporal()}
    assert temporal <= {"enrolled_date", "event_date", "withdrawn_date", "lab_draw_date"}
    assert not any(analysed.schema[c] == pl.Datetime for c in temporal)
    assert "1 participant(s) in the data withdrew" in run.notes
    for name in ("web fhir", "api fhir"):
        bundle = json.loads(outputs[name])
        validated(Bundle, bundle)
        ages = [r.row["demo_age"] for r in read_bundle(bundle) if r.row.get("demo_age")]
        assert ages and max(ages) == 90, name
        marks = {
            e["resource"]["subject"]["reference"]: e["resource"].get("extension")
            for e in bundle["entry"]
        }
        assert marks[f"Patient/{withdrawn.study_code}"] == [
            {"url": WITHDRAWAL_EXTENSION, "valueDate": shifted_withdrawal}
        ]
        assert sum(1 for m in marks.values() if m) == 1
    items = json.loads(outputs["api responses"])["items"]
    ages = [i["answers"]["demo_age"] for i in items if i["answers"].get("demo_age") is not None]
    assert max(ages) == 90
    assert json.loads(outputs["api response"])["answers"]["demo_age"] == 90
    gone = [i for i in items if i["participant_id"] == withdrawn.study_code]
    assert gone and all(i["withdrawn"] and i["withdrawn_date"] == shifted_withdrawal for i in gone)
    people = json.loads(outputs["api participants"])["items"]
    [mark] = [p for p in people if p["participant_id"] == withdrawn.study_code]
    assert mark["withdrawn"] and mark["withdrawn_date"] == shifted_withdrawal

    # 4. Every read through the API is audited.
    from fibrosurvey.web.audit.models import AuditRecord

    reads = AuditRecord.objects.filter(action="export", object_type="api.responses")
    assert reads.count() == 2 and all(r.actor == users["anna"] for r in reads)
    assert AuditRecord.objects.filter(object_type="api.participants").count() == 1
