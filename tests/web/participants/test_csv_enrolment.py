"""CSV enrolment: the whole file is checked, then enrolled all-or-nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fibrosurvey.web.participants.enrolment import EnrolmentError, do_enrol_csv
from fibrosurvey.web.participants.models import ContactDetails, Participant

GOOD = (
    "study_code,site,language,email,phone,name\n"
    "P-001,north,en,ana@example.org,+34 600 000 001,Ana\n"
    ",south,es,,,\n"
)
BAD = (
    "study_code,site,language,email,phone,name\n"
    "P-001,north,en,ana@example.org,,Ana\n"
    "P-002,west,en,bob@example.org,,Bob\n"
    "P-003,south,fr,not-an-email,,Cy\n"
    "P-001,north,en,,,\n"
)


def test_valid_file_enrols_every_row_with_encrypted_contacts(study, users):
    created = do_enrol_csv(study, GOOD, actor=users["carol"])

    assert created[0].study_code == "P-001"
    assert created[1].study_code.startswith("FS-")
    assert [p.site.code for p in created] == ["north", "south"]
    assert ContactDetails.objects.get(participant=created[0]).email == "ana@example.org"


def test_one_bad_row_enrols_nobody_and_reports_row_field_value_and_allowed(study, users):
    with pytest.raises(EnrolmentError) as caught:
        do_enrol_csv(study, BAD, actor=users["carol"])

    problems = {(p.row, p.column): p for p in caught.value.problems}
    assert set(problems) == {(2, "site"), (3, "language"), (3, "email"), (4, "study_code")}
    assert problems[(2, "site")].value == "west"
    assert problems[(2, "site")].allowed == "north, south"
    assert problems[(3, "language")].allowed == "en, es"
    assert Participant.objects.count() == 0


def test_upload_page_shows_the_row_level_report_and_enrols_nobody(study, login):
    carol = login("carol")
    response = carol.post(
        reverse("participants:enrol_csv", args=[study.pk]),
        {"file": SimpleUploadedFile("p.csv", BAD.encode(), content_type="text/csv")},
    )
    assert response.status_code == 422
    text = response.content.decode()
    assert "4 problems found; nobody was enrolled." in text
    assert "<td>west</td>" in text
    assert Participant.objects.count() == 0


def test_site_limited_coordinator_cannot_enrol_at_another_site(study, login):
    sam = login("sam")
    response = sam.post(
        reverse("participants:enrol_csv", args=[study.pk]),
        {"file": SimpleUploadedFile("p.csv", GOOD.encode(), content_type="text/csv")},
    )
    assert response.status_code == 422
    assert Participant.objects.count() == 0


def test_missing_site_column_is_reported_as_a_header_problem(study, users):
    with pytest.raises(EnrolmentError) as caught:
        do_enrol_csv(study, "email\na@example.org\n", actor=users["carol"])
    assert caught.value.problems[0].column == "header"
