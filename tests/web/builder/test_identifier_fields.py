"""Text, date and identifier items of a REDCap data dictionary, through the study builder:
the survey collects them, identifiers are stored apart and encrypted (never in a response,
an audit record or an export), free text stays out of the de-identified export and dates are
shifted like every other date."""

from __future__ import annotations

import datetime
import io
import json

import polars as pl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.builder.active import study_instruments
from fibrosurvey.web.builder.library import do_import_instrument, do_save_instruments
from fibrosurvey.web.builder.setup import do_change_event
from fibrosurvey.web.exports.dataset import DatasetBuilder
from fibrosurvey.web.exports.deidentify import date_offset_days
from fibrosurvey.web.exports.models import study_secret
from fibrosurvey.web.survey.models import IdentifierAnswer, Response
from tests.web.builder.conftest import DATA
from tests.web.builder.test_library import PEG, answer_survey
from tests.web.exports.test_exports import _download

NAME = "Maria Quintana-Oyelaran"
FREE_TEXT = "Monday: could not get out of bed, my sister Ana drove me to work"
START = "2025-11-03"


def _import_visit_note(study, user) -> None:
    upload = SimpleUploadedFile("visit_note.csv", (DATA / "visit_note.csv").read_bytes())
    preview = do_import_instrument(study, "redcap", upload, user)
    assert preview.ok and preview.refusals == [], (preview.problems, preview.refusals)
    items = {item.column: item for item in preview.drafts[0].instrument.items}
    assert [(c, i.kind, i.identifier) for c, i in items.items()] == [
        ("visitnote_full_name", "text", True),
        ("visitnote_symptom_start", "date", False),
        ("visitnote_worst_day", "text", False),
        ("visitnote_flare", "choice", False),
    ]
    do_save_instruments(study, preview, user)
    with study_instruments(study.pk):
        do_change_event(
            study.events.get(code="baseline"),
            label={"en": "Baseline"},
            day_offset=0,
            window_days=0,
            reminder_days=[],
            battery=["visitnote", "peg"],
            actor=user,
        )


ANSWERS = {
    "visitnote_full_name": NAME,
    "visitnote_symptom_start": START,
    "visitnote_worst_day": FREE_TEXT,
    "visitnote_flare": "1",
} | PEG


def test_identifier_is_encrypted_apart_text_left_out_and_dates_shifted(
    client, login, own_study, users, enrol
):
    _import_visit_note(own_study, users["alice"])
    participant, token = enrol("en")
    answer_survey(client, token, ANSWERS, participant)

    # The response holds the text and the date as given, and never the identifier.
    response = Response.objects.get(participant=participant, instrument_id="visitnote")
    assert response.answers == {
        "visitnote_symptom_start": START,
        "visitnote_worst_day": FREE_TEXT,
        "visitnote_flare": 1,
    }
    assert response.status == "complete"
    assert NAME not in json.dumps(response.answers)

    # The identifier: one encrypted row that decrypts to the answer.
    stored = IdentifierAnswer.objects.get(participant=participant)
    assert (stored.instrument_id, stored.column, stored.value) == (
        "visitnote",
        "visitnote_full_name",
        NAME,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT value FROM {IdentifierAnswer._meta.db_table} WHERE id = %s", [stored.pk]
        )
        ciphertext = cursor.fetchone()[0]
    assert ciphertext.startswith("gAAAAA") and NAME not in ciphertext

    # Its audit record names the column, never the value; no audit record holds it.
    identifier_records = AuditRecord.objects.filter(object_type="survey.identifieranswer")
    assert [(r.action, r.after["column"]) for r in identifier_records] == [
        ("create", "visitnote_full_name")
    ]
    every_record = json.dumps(
        list(AuditRecord.objects.values("before", "after", "object_repr")), default=str
    )
    assert NAME not in every_record and "Quintana" not in every_record

    # The (de-identified) export: no identifier, no free text, the date shifted.
    frame = DatasetBuilder(own_study).frame()
    assert not [
        c for c in frame.columns if c.startswith(("visitnote_full_name", "visitnote_worst"))
    ]
    row = frame.row(0, named=True)
    offset = date_offset_days(study_secret(own_study), participant.study_code)
    assert frame.schema["visitnote_symptom_start"] == pl.Date
    assert row["visitnote_symptom_start"] == datetime.date(2025, 11, 3) + datetime.timedelta(
        days=offset
    )
    assert row["visitnote_flare"] == 1 and row["peg_1"] == 4
    assert NAME not in frame.write_csv() and "Ana drove" not in frame.write_csv()

    # Every download says the same: CSV, FHIR (the date a valueDate) and the dictionary.
    owner = login("alice")
    csv = _download(owner, own_study, "csv")
    assert pl.read_csv(io.BytesIO(csv)).columns == frame.columns
    fhir = _download(owner, own_study, "fhir").decode()
    shifted = row["visitnote_symptom_start"].isoformat()
    assert f'"valueDate": "{shifted}"' in fhir
    for content in (csv.decode(), fhir):
        assert "Quintana" not in content and "Ana drove" not in content and START not in content
    dictionary = pl.read_csv(io.BytesIO(_download(owner, own_study, "dictionary")))
    entries = {r["column"]: r for r in dictionary.iter_rows(named=True)}
    assert "shifted" in entries["visitnote_symptom_start"]["deidentification"]
    assert entries["visitnote_symptom_start"]["type"] == "Date"
    assert entries["visitnote_worst_day"]["type"] == "not exported"
    assert "free text" in entries["visitnote_worst_day"]["deidentification"]
    assert "identifier" in entries["visitnote_full_name"]["deidentification"]


def test_the_contact_page_shows_identifier_answers_under_its_audited_view(
    client, login, own_study, users, enrol
):
    _import_visit_note(own_study, users["alice"])
    participant, token = enrol("en")
    answer_survey(client, token, ANSWERS, participant)
    views = AuditRecord.objects.filter(action="view_contact").count()
    page = login("carol").get(reverse("participants:contact", args=[own_study.pk, participant.pk]))
    assert page.status_code == 200 and NAME in page.content.decode()
    assert AuditRecord.objects.filter(action="view_contact").count() == views + 1


def test_the_survey_renders_text_and_date_inputs_and_refuses_bad_ones(
    client, own_study, users, enrol
):
    _import_visit_note(own_study, users["alice"])
    participant, token = enrol("en")
    client.post(reverse("survey:consent", args=[token]), {"agree": "yes"})
    client.post(reverse("survey:language", args=[token]), {"language": "en"})
    url = reverse("survey:page", args=[token, 1])
    page = client.get(url).content.decode()
    assert 'type="date" id="in-visitnote_symptom_start"' in page
    assert 'name="visitnote_worst_day" value="" maxlength="500"' in page
    bad_date = client.post(url, {"visitnote_symptom_start": "03/11/2025", "nonce": "a"})
    assert bad_date.status_code == 422
    assert "Please enter a date as year-month-day" in bad_date.content.decode()
    too_long = client.post(url, {"visitnote_worst_day": "x" * 501, "nonce": "b"})
    assert too_long.status_code == 422
    assert "at most 500 characters" in too_long.content.decode()
    assert not Response.objects.filter(participant=participant).exists()
    # A decimal comma is a number's, not a text's: "3,5" stays as typed.
    client.post(url, {"visitnote_worst_day": "3,5", "visitnote_full_name": "", "nonce": "c"})
    stored = Response.objects.get(participant=participant, instrument_id="visitnote")
    assert stored.answers["visitnote_worst_day"] == "3,5"
    assert not IdentifierAnswer.objects.filter(participant=participant).exists()


def test_identifier_answers_rotate_to_the_new_key_with_contact_details(
    client, own_study, users, enrol, settings
):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old
    _import_visit_note(own_study, users["alice"])
    participant, token = enrol("en")
    answer_survey(client, token, ANSWERS, participant)
    settings.FIELD_ENCRYPTION_KEY = f"{new},{old}"
    call_command("rotate_encryption_key", stdout=io.StringIO())
    settings.FIELD_ENCRYPTION_KEY = new
    assert IdentifierAnswer.objects.get(participant=participant).value == NAME


def test_the_api_leaves_free_text_out_and_shifts_date_answers(
    client, own_study, users, enrol, capsys
):
    from django.core.management import call_command

    _import_visit_note(own_study, users["alice"])
    participant, token = enrol("en")
    answer_survey(client, token, ANSWERS, participant)
    call_command("api_token", "create", "--user", "alice", "--study", str(own_study.pk))
    api_token = capsys.readouterr().out.strip().splitlines()[-1]
    client.logout()
    reply = client.get(
        f"/api/studies/{own_study.pk}/responses",
        headers={"Authorization": f"Bearer {api_token}"},
    )
    assert reply.status_code == 200
    (visit,) = [r for r in reply.json()["items"] if r["instrument_id"] == "visitnote"]
    offset = date_offset_days(study_secret(own_study), participant.study_code)
    shifted = datetime.date(2025, 11, 3) + datetime.timedelta(days=offset)
    assert visit["answers"] == {
        "visitnote_symptom_start": shifted.isoformat(),
        "visitnote_flare": 1,
    }
    assert NAME not in reply.content.decode() and "Ana drove" not in reply.content.decode()
