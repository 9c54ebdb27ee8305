"""Lab results import: all or nothing, row-level report, pmol/mL storage, audit, flags."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.labs.csv_reading import LabImportError
from fibrosurvey.web.labs.dashboard import lab_sample_summary
from fibrosurvey.web.labs.models import LabResult, LabSample
from fibrosurvey.web.labs.services import do_import_labs

HEADER = (
    "participant_id,event,analyte,value,unit,lloq,lab_matrix,lab_assay,lab_batch,"
    "lab_minutes_to_centrifuge,includes_1ag\n"
)


def lab_row(
    code,
    analyte="aea",
    value="1",
    unit="ng/mL",
    lloq="0.05",
    minutes="20",
    event="baseline",
    includes="",
):
    sample = f"plasma,LC-MS/MS v2,B7,{minutes},{includes}"
    return f"{code},{event},{analyte},{value},{unit},{lloq},{sample}\n"


@pytest.fixture
def codes(participant, participant_south):
    return participant.study_code, participant_south.study_code


def test_aea_in_ng_per_ml_is_stored_in_pmol_per_ml(study, users, codes):
    north, _ = codes
    result = do_import_labs(
        study, HEADER + lab_row(north, "aea", "1", "ng/mL"), actor=users["carol"]
    )
    stored = LabResult.objects.get(sample__participant__study_code=north, analyte="aea")
    # 1 ng/mL / 347.5 g/mol * 1000 = 2.8777 pmol/mL (DESIGN.md section 5).
    assert stored.value_pmol_ml == pytest.approx(2.8777, abs=5e-5)
    assert stored.lloq == pytest.approx(0.05 * 1000 / 347.5)
    assert stored.unit_reported == "ng/mL"
    assert result.samples_created == 1 and result.results_created == 1


def test_one_bad_row_among_good_ones_stores_nothing_and_names_row_field_allowed(
    study, users, codes
):
    north, south = codes
    content = (
        HEADER
        + lab_row(north, "aea")
        + lab_row(north, "pea", "3.1", "nM")
        + lab_row(south, "oea", "2", "mg/dL")  # row 3: unit the importer cannot convert
        + lab_row(south, "sea", "-0.4", "nM")  # row 4: negative
        + lab_row("NOBODY", "aea")  # row 5: unknown participant
        + lab_row(north, "aea")  # row 6: duplicate of row 1
        + lab_row(north, "twoag", "", "nM")  # row 7: missing value
    )
    with pytest.raises(LabImportError) as caught:
        do_import_labs(study, content, actor=users["carol"])
    problems = {(p.row, p.column): p for p in caught.value.problems}
    assert LabSample.objects.count() == 0 and LabResult.objects.count() == 0
    assert "pmol/mL" in problems[(3, "unit")].allowed and problems[(3, "unit")].value == "mg/dL"
    assert problems[(4, "value")].allowed == "a number >= 0"
    assert problems[(5, "participant_id")].value == "NOBODY"
    assert "enrolled in this study" in problems[(5, "participant_id")].allowed
    assert "duplicate of row 1" in problems[(6, "analyte")].message
    assert (7, "value") in problems
    assert not AuditRecord.objects.filter(action="import").exists()


def test_missing_required_column_is_reported_for_the_file(study, users, codes):
    content = "participant_id,event,analyte,value,unit\n" + f"{codes[0]},baseline,aea,1,nM\n"
    with pytest.raises(LabImportError) as caught:
        do_import_labs(study, content, actor=users["carol"])
    fields = {p.column for p in caught.value.problems if p.row is None}
    assert {"lloq", "lab_matrix", "lab_assay", "lab_batch"} <= fields


def test_result_already_stored_rejects_the_second_file(study, users, codes):
    north, _ = codes
    do_import_labs(study, HEADER + lab_row(north, "aea"), actor=users["carol"])
    with pytest.raises(LabImportError) as caught:
        do_import_labs(
            study, HEADER + lab_row(north, "pea") + lab_row(north, "aea"), actor=users["carol"]
        )
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (2, "analyte")
    assert problem.message.startswith("already imported for this participant and event")
    assert LabResult.objects.count() == 1


def test_participant_of_another_study_is_unknown(study, other_study, users, codes):
    from fibrosurvey.web.participants.enrolment import do_enrol_participant

    stranger = do_enrol_participant(
        other_study, site=other_study.sites.get(code="east"), actor=users["oscar"], language="en"
    )
    with pytest.raises(LabImportError) as caught:
        do_import_labs(study, HEADER + lab_row(stranger.study_code), actor=users["alice"])
    assert caught.value.problems[0].column == "participant_id"


def test_site_limited_member_cannot_import_for_another_site(study, users, codes, login):
    north, south = codes
    client = login("sam")
    url = reverse("labs:import", args=[study.pk])
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("labs.csv", (HEADER + lab_row(south) + lab_row(north)).encode())
    response = client.post(url, {"file": upload})
    assert response.status_code == 422
    body = response.content.decode()
    assert north in body and "this study at site south" in body
    assert LabResult.objects.count() == 0


def test_import_page_stores_audits_and_feeds_the_dashboard_panel(study, users, codes, login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    north, south = codes
    content = (
        HEADER
        + lab_row(north, "aea", "<LLOQ", lloq="0.05", minutes="45")
        + lab_row(north, "twoag", "5", "ng/mL", includes="1", minutes="45")
        + lab_row(south, "pea", "10", "nM", minutes="15")
    )
    client = login("carol")
    response = client.post(
        reverse("labs:import", args=[study.pk]),
        {"file": SimpleUploadedFile("labs.csv", content.encode())},
    )
    assert response.status_code == 302
    below = LabResult.objects.get(analyte="aea")
    assert below.below_lloq and below.value_pmol_ml == pytest.approx(0.05 * 1000 / 347.5)
    assert LabResult.objects.get(analyte="twoag").includes_1ag is True
    imports = AuditRecord.objects.filter(action="import", object_type="labs.labimport")
    assert imports.get().after["results_created"] == 3
    created = AuditRecord.objects.filter(action="create", object_type="labs.labsample")
    assert created.count() == 2 and all(r.before is None for r in created)

    alice = study.memberships.get(user=users["alice"])
    sam = study.memberships.get(user=users["sam"])
    summary = lab_sample_summary(study, alice)
    assert (summary["received"], summary["flagged"]) == (2, 1)
    assert (summary["delayed"], summary["below_lloq"], summary["includes_1ag"]) == (1, 1, 1)
    assert summary["by_site"]["south"] == {
        "received": 1,
        "flagged": 0,
        "delayed": 0,
        "below_lloq": 0,
        "includes_1ag": 0,
    }
    assert lab_sample_summary(study, sam)["received"] == 1  # site-limited
    page = client.get(reverse("labs:samples", args=[study.pk])).content.decode()
    assert "slow processing" in page and "below LLOQ" in page
    dashboard = client.get(reverse("dashboard:study", args=[study.pk])).content.decode()
    assert "No lab data yet" not in dashboard


def test_new_analyte_for_a_stored_sample_must_repeat_its_preanalytical_values(study, users, codes):
    north, _ = codes
    do_import_labs(study, HEADER + lab_row(north, "aea", minutes="20"), actor=users["carol"])
    with pytest.raises(LabImportError) as caught:
        do_import_labs(study, HEADER + lab_row(north, "pea", minutes="50"), actor=users["carol"])
    [problem] = caught.value.problems
    assert (problem.row, problem.column, problem.value) == (1, "lab_minutes_to_centrifuge", "50.0")
    assert "20.0" in problem.allowed
    result = do_import_labs(
        study, HEADER + lab_row(north, "pea", minutes="20"), actor=users["carol"]
    )
    assert (result.samples_created, result.results_created) == (0, 1)
    assert LabSample.objects.get().results.count() == 2


def test_a_file_with_nul_bytes_is_refused_as_not_text(study, users, codes):
    content = (HEADER + lab_row(codes[0], "aea", "1")).replace("B7", "B\x007")
    with pytest.raises(LabImportError) as caught:
        do_import_labs(study, content, actor=users["carol"])
    assert caught.value.problems[0].message.startswith("not a text CSV file")
    assert not LabResult.objects.exists()


def test_a_header_naming_a_column_twice_is_refused_naming_it(study, users, codes):
    content = HEADER.replace("lab_batch", " Value ") + lab_row(codes[0], "aea", "1")
    with pytest.raises(LabImportError) as caught:
        do_import_labs(study, content, actor=users["carol"])
    problem = caught.value.problems[0]
    assert (problem.column, problem.value) == ("header", "'value'")
    assert "more than once" in problem.message
    assert not LabResult.objects.exists()
