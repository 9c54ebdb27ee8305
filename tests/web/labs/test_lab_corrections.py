"""Lab workflow a coordinator expects: the draw date is stored, and a wrong result is
corrected or retracted with a reason (old value in the audit trail, retracted ones out of the
analysis dataset, re-import allowed after a retraction)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.exports.dataset import DatasetBuilder
from fibrosurvey.web.labs.correction_import import do_import_lab_corrections
from fibrosurvey.web.labs.corrections import (
    LabCorrectionError,
    do_correct_result,
    do_retract_result,
)
from fibrosurvey.web.labs.csv_reading import LabImportError
from fibrosurvey.web.labs.models import LabResult, LabSample
from fibrosurvey.web.labs.services import do_import_labs

HEADER = (
    "participant_id,event,analyte,value,unit,lloq,lab_matrix,lab_assay,lab_batch,lab_draw_time\n"
)
AEA_PMOL = 1000 / 347.5  # 1 ng/mL of AEA


def _row(code, analyte="aea", value="1", draw="2026-03-02T08:30", unit="ng/mL"):
    return f"{code},baseline,{analyte},{value},{unit},0.05,plasma,LC-MS/MS,B1,{draw}\n"


@pytest.fixture
def imported(study, users, participant, participant_south):
    content = (
        HEADER
        + _row(participant.study_code, "aea")
        + _row(participant.study_code, "pea", "2")
        + _row(participant_south.study_code, "aea", "3", draw="09:15")
    )
    do_import_labs(study, content, actor=users["carol"])
    north = LabResult.objects.get(sample__participant=participant, analyte="aea")
    south = LabResult.objects.get(sample__participant=participant_south, analyte="aea")
    return north, south


def _analysis_data(study):
    """What an analysis run reads (exports.dataset is the exports engineer's; read only)."""
    return DatasetBuilder(study).frame()


def _correct_url(study, result):
    return reverse("labs:correct_result", args=[study.pk, result.pk])


# --- draw date ----------------------------------------------------------------------------


def test_an_iso_draw_date_and_time_stores_the_date_and_keeps_the_clock_time(
    imported, participant, participant_south
):
    north = LabSample.objects.get(participant=participant)
    assert (north.draw_date, north.draw_time) == (date(2026, 3, 2), "08:30")
    south = LabSample.objects.get(participant=participant_south)
    assert (south.draw_date, south.draw_time) == (None, "09:15")  # plain HH:MM still accepted


def test_the_export_shifts_the_draw_date_with_the_participants_offset_and_keeps_the_time(
    imported, study, participant, participant_south
):
    from datetime import timedelta

    from fibrosurvey.web.exports.deidentify import date_offset_days
    from fibrosurvey.web.exports.models import study_secret

    frame = _analysis_data(study)
    north = frame.filter(pl.col("participant_id") == participant.study_code).row(0, named=True)
    offset = date_offset_days(study_secret(study), participant.study_code)
    assert north["lab_draw_date"] == date(2026, 3, 2) + timedelta(days=offset)
    assert north["lab_draw_time"] == "08:30"  # the circadian covariate is not shifted
    south = frame.filter(pl.col("participant_id") == participant_south.study_code)
    assert south.row(0, named=True)["lab_draw_date"] is None
    assert frame.columns.index("lab_draw_date") == frame.columns.index("lab_batch") + 1


def test_a_draw_date_that_conflicts_with_the_stored_sample_is_refused(
    study, users, imported, participant
):
    content = HEADER + _row(participant.study_code, "oea", draw="2026-03-05T08:30")
    with pytest.raises(LabImportError) as caught:
        do_import_labs(study, content, actor=users["carol"])
    problem = caught.value.problems[0]
    assert (problem.row, problem.column) == (1, "lab_draw_date")
    assert "2026-03-02" in problem.allowed
    assert not LabResult.objects.filter(analyte="oea").exists()


def test_an_impossible_draw_date_names_the_row_and_stores_nothing(study, users, participant):
    content = HEADER + _row(participant.study_code, draw="2026-02-30T08:30")
    with pytest.raises(LabImportError) as caught:
        do_import_labs(study, content, actor=users["carol"])
    problem = caught.value.problems[0]
    assert (problem.row, problem.column, problem.value) == (1, "lab_draw_time", "2026-02-30T08:30")
    assert problem.message == "no such date"
    assert LabSample.objects.count() == 0


# --- corrections --------------------------------------------------------------------------


def test_reimporting_a_stored_result_points_to_correction(study, users, imported, participant):
    with pytest.raises(LabImportError) as caught:
        do_import_labs(study, HEADER + _row(participant.study_code), actor=users["carol"])
    assert "correct or retract it" in caught.value.problems[0].message


def test_correcting_a_value_keeps_the_old_one_in_the_audit_trail(login, study, imported, users):
    north, _ = imported
    response = login("carol").post(
        _correct_url(study, north),
        {"action": "correct", "value": "1.5", "unit": "ng/mL", "reason": "transcription error"},
    )

    assert response.status_code == 302
    north.refresh_from_db()
    assert north.value_pmol_ml == pytest.approx(1.5 * AEA_PMOL)
    assert (north.status, north.status_reason) == ("corrected", "transcription error")
    assert north.status_changed_by == users["carol"]
    audit = AuditRecord.objects.get(action="update", object_type="labs.labresult")
    assert audit.before["value_pmol_ml"] == pytest.approx(AEA_PMOL)
    assert audit.after["value_pmol_ml"] == pytest.approx(1.5 * AEA_PMOL)
    assert audit.after["status_reason"] == "transcription error"
    assert audit.actor == users["carol"]
    page = login("carol").get(_correct_url(study, north)).content.decode()
    assert "transcription error" in page and "2.8777" in page  # old value in the history


def test_a_correction_without_a_reason_changes_nothing(login, study, imported):
    north, _ = imported
    response = login("carol").post(
        _correct_url(study, north),
        {"action": "correct", "value": "1.5", "unit": "ng/mL", "reason": "  "},
    )

    assert response.status_code == 422
    north.refresh_from_db()
    assert (north.value_pmol_ml, north.status) == (pytest.approx(AEA_PMOL), "reported")
    assert not AuditRecord.objects.filter(action="update").exists()


@pytest.mark.parametrize(
    ("value", "unit", "field"),
    [("abc", "ng/mL", "value"), ("-1", "ng/mL", "value"), ("nan", "nM", "value")],
)
def test_a_bad_corrected_value_names_the_field_and_changes_nothing(
    login, study, imported, value, unit, field
):
    north, _ = imported
    response = login("carol").post(
        _correct_url(study, north),
        {"action": "correct", "value": value, "unit": unit, "reason": "re-run"},
    )

    assert response.status_code == 422
    assert f"<code>{field}</code>" in response.content.decode()
    north.refresh_from_db()
    assert north.status == "reported"


def test_a_corrected_value_below_the_lloq_is_stored_as_the_lloq_with_the_flag(users, imported):
    north, _ = imported
    corrected = do_correct_result(
        north, value="<LLOQ", unit="ng/mL", reason="re-assayed", actor=users["alice"]
    )
    assert corrected.below_lloq and corrected.value_pmol_ml == pytest.approx(corrected.lloq)


def test_a_retracted_result_leaves_the_analysis_dataset_and_can_be_imported_again(
    study, users, imported, participant
):
    north, _ = imported
    before = _analysis_data(study).filter(participant_id=participant.study_code)
    assert before["aea"].to_list() == [pytest.approx(AEA_PMOL)]

    do_retract_result(north, reason="haemolysed sample", actor=users["carol"])

    after = _analysis_data(study).filter(participant_id=participant.study_code)
    assert after["aea"].to_list() == [None]
    assert after["pea"].to_list() == [pytest.approx(2 * 1000 / 299.5)]  # the rest stays
    assert LabResult.all_results.get(pk=north.pk).status == "retracted"  # kept for the record
    audit = AuditRecord.objects.get(action="update", object_type="labs.labresult")
    assert (audit.before["status"], audit.after["status"]) == ("reported", "retracted")
    assert audit.after["status_reason"] == "haemolysed sample"

    do_import_labs(study, HEADER + _row(participant.study_code, value="0.9"), actor=users["carol"])
    current = LabResult.objects.get(sample__participant=participant, analyte="aea")
    assert current.value_pmol_ml == pytest.approx(0.9 * AEA_PMOL)
    assert LabResult.all_results.filter(sample__participant=participant, analyte="aea").count() == 2


def test_a_retracted_result_cannot_be_corrected(users, imported):
    north, _ = imported
    do_retract_result(north, reason="wrong tube", actor=users["carol"])
    with pytest.raises(LabCorrectionError) as caught:
        do_correct_result(north, value="2", unit="nM", reason="x", actor=users["carol"])
    assert caught.value.field == "status"
    assert AuditRecord.objects.filter(action="update").count() == 1


def test_retracting_from_the_page_says_the_result_is_out_of_the_analysis(login, study, imported):
    north, _ = imported
    client = login("alice")
    response = client.post(
        _correct_url(study, north), {"action": "retract", "unit": "nM", "reason": "wrong patient"}
    )
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "left out of every analysis" in page and "wrong patient" in page


def test_a_site_limited_coordinator_cannot_correct_another_sites_result(login, study, imported):
    north, south = imported
    client = login("sam")
    body = {"action": "correct", "value": "2", "unit": "nM", "reason": "re-run"}
    assert client.post(_correct_url(study, north), body).status_code == 404
    assert client.post(_correct_url(study, south), body).status_code == 302
    north.refresh_from_db()
    assert north.status == "reported"


def test_the_samples_page_links_each_value_to_its_correction_page_for_editors(
    login, study, imported
):
    north, _ = imported
    url = reverse("labs:samples", args=[study.pk])
    assert _correct_url(study, north) in login("carol").get(url).content.decode()
    assert _correct_url(study, north) not in login("vera").get(url).content.decode()


# --- corrections file ---------------------------------------------------------------------

CORRECTIONS_HEADER = "participant_id,event,analyte,action,value,unit,reason\n"


def test_a_corrections_file_corrects_and_retracts_with_one_audit_record_per_result(
    study, users, imported, participant, participant_south
):
    north, south = imported
    content = (
        CORRECTIONS_HEADER
        + f"{participant.study_code},baseline,AEA,correct,1.2,ng/mL,re-integrated peak\n"
        + f"{participant_south.study_code},baseline,anandamide,retract,,,haemolysed\n"
    )
    result = do_import_lab_corrections(study, content, actor=users["carol"], file_name="fix.csv")

    assert (result.corrected, result.retracted) == (1, 1)
    north.refresh_from_db()
    assert (north.status, north.value_pmol_ml) == ("corrected", pytest.approx(1.2 * AEA_PMOL))
    assert LabResult.all_results.get(pk=south.pk).status == "retracted"
    updates = AuditRecord.objects.filter(action="update", object_type="labs.labresult")
    by_reason = {u.after["status_reason"]: u for u in updates}
    assert sorted(by_reason) == ["haemolysed", "re-integrated peak"]
    assert by_reason["re-integrated peak"].before["value_pmol_ml"] == pytest.approx(AEA_PMOL)
    assert by_reason["haemolysed"].before["value_pmol_ml"] == pytest.approx(3 * AEA_PMOL)
    assert by_reason["haemolysed"].after["status"] == "retracted"
    summary = AuditRecord.objects.get(action="import", object_type="labs.corrections")
    assert summary.after["file_name"] == "fix.csv" and summary.after["retracted"] == 1


def test_one_bad_row_in_a_corrections_file_changes_nothing_and_names_every_problem(
    study, users, imported, participant, participant_south
):
    code = participant.study_code
    content = (
        CORRECTIONS_HEADER
        + f"{code},baseline,aea,correct,1.2,ng/mL,re-run\n"  # fine on its own
        + f"{code},baseline,pea,correct,2,ng/mL,\n"  # row 2: no reason
        + f"{code},baseline,oea,correct,2,ng/mL,re-run\n"  # row 3: never imported
        + f"{code},baseline,aea,retract,,,twice\n"  # row 4: duplicate of row 1
        + f"{participant_south.study_code},baseline,aea,fix,1,nM,x\n"  # row 5: unknown action
        + f"{code},baseline,pea,correct,1,mg/dL,re-run\n"  # row 6: duplicate (pea) of row 2
    )
    with pytest.raises(LabImportError) as caught:
        do_import_lab_corrections(study, content, actor=users["carol"])

    found = {(p.row, p.column, p.message) for p in caught.value.problems}
    assert (2, "reason", "a reason is required") in found
    assert (
        3,
        "analyte",
        "no such result to correct (never imported, or already retracted)",
    ) in found
    assert (4, "analyte", "duplicate of row 1") in found
    assert (5, "action", "unknown action") in found
    assert (6, "analyte", "duplicate of row 2") in found
    assert LabResult.objects.filter(status="corrected").count() == 0
    assert not AuditRecord.objects.filter(action="update").exists()


def test_a_site_limited_coordinator_cannot_correct_another_sites_result_by_file(
    study, users, imported, participant
):
    content = CORRECTIONS_HEADER + f"{participant.study_code},baseline,aea,retract,,,x\n"
    sam = study.memberships.get(user__username="sam")
    with pytest.raises(LabImportError) as caught:
        do_import_lab_corrections(study, content, actor=users["sam"], membership=sam)
    assert caught.value.problems[0].column == "analyte"
    assert LabResult.objects.filter(sample__participant=participant).count() == 2


def test_the_corrections_page_reports_problems_with_422_and_applies_a_good_file(
    login, study, imported, participant
):
    url = reverse("labs:import_corrections", args=[study.pk])
    client = login("carol")
    bad = SimpleUploadedFile(
        "c.csv",
        (CORRECTIONS_HEADER + f"{participant.study_code},baseline,aea,correct,x,nM,r\n").encode(),
    )
    response = client.post(url, {"file": bad})
    assert response.status_code == 422
    assert "nothing was imported" in response.content.decode()

    good = SimpleUploadedFile(
        "c.csv",
        (CORRECTIONS_HEADER + f"{participant.study_code},baseline,aea,correct,2,nM,r\n").encode(),
    )
    assert client.post(url, {"file": good}).status_code == 302
    assert LabResult.objects.get(pk=imported[0].pk).value_pmol_ml == pytest.approx(2.0)
