"""Run analysis: plan validation, the queue, the worker, the report and the history."""

from __future__ import annotations

import polars as pl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from fibrosurvey.analysis import data_sha256
from fibrosurvey.analysis.plan import default_plan_text
from fibrosurvey.web.analyses.models import AnalysisRun
from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.exports.dataset import DatasetBuilder


@pytest.fixture
def big_cohort(study):
    from fibrosurvey.synth import generate
    from fibrosurvey.web.cohort import load_cohort

    data = generate("seed-claims", 160, 11, score=False).data
    data = data.with_columns(
        pl.when(pl.col("design_psu") % 2 == 0)
        .then(pl.lit("north"))
        .otherwise(pl.lit("south"))
        .alias("site")
    )
    load_cohort(study, data)
    return study


def test_worker_runs_the_default_plan_and_stores_the_report(big_cohort, login, monkeypatch):
    monkeypatch.setenv("FIBROSURVEY_ANALYSIS_IN_PROCESS", "0")
    study = big_cohort
    client = login("anna")
    response = client.post(reverse("analyses:run", args=[study.pk]))
    queued = AnalysisRun.objects.get(study=study)
    assert response.status_code == 302 and queued.status == "queued"
    assert queued.plan_text == default_plan_text()
    queued.imputations = 0  # keep the test fast; the plan's MI is tested in tests/analysis
    queued.save(update_fields=["imputations"])

    call_command("run_analysis_jobs", "--once")

    run = AnalysisRun.objects.get(pk=queued.pk)
    assert run.status == "done", run.error
    assert run.started_at <= run.finished_at
    frame = DatasetBuilder(study).frame()
    assert run.rows == frame.height and run.data_sha256 == data_sha256(frame)
    # The report states the size of the analysed table, and it is the export's size.
    export = client.get(reverse("exports:download", args=[study.pk, "csv"]))
    exported = pl.read_csv(b"".join(export.streaming_content), infer_schema=False)
    provenance = run.results["provenance"]
    assert (provenance["rows"], provenance["columns"]) == exported.shape
    assert f"{exported.height:,} × {exported.width}" in run.report_html
    assert {c["id"] for c in run.results["claims"]} >= {"C1", "C2", "C3", "C4"}
    assert run.results["plan_sha256"] == run.plan_sha256
    assert "<html" in run.report_html.lower() and run.plan_sha256[:12] in run.report_html

    page = login("alice").get(reverse("analyses:detail", args=[study.pk, run.pk]))
    assert page.status_code == 200 and "C1" in page.content.decode()
    assert login("vera").get(reverse("analyses:detail", args=[study.pk, run.pk])).status_code == 403
    client = login("anna")
    report = client.get(reverse("analyses:report", args=[study.pk, run.pk]))
    assert report.status_code == 200 and report.content.decode() == run.report_html
    history = client.get(reverse("analyses:index", args=[study.pk])).content.decode()
    assert run.data_sha256[:10] in history
    actions = AuditRecord.objects.filter(action="analysis", object_id=str(run.pk))
    assert [a.after["status"] for a in actions.order_by("id")] == ["queued", "done"]


def test_invalid_uploaded_plan_is_shown_with_its_line_and_nothing_is_queued(study, login):
    plan = default_plan_text().replace("claims:", "claimz:", 1)
    response = login("alice").post(
        reverse("analyses:run", args=[study.pk]),
        {"plan": SimpleUploadedFile("my-plan.yaml", plan.encode())},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "my-plan.yaml line" in body and "claimz" in body
    assert not AnalysisRun.objects.exists()


def test_a_run_on_a_study_without_data_fails_with_a_reason(study, users):
    from fibrosurvey.web.analyses.services import do_request_analysis, process_queued

    membership = study.memberships.get(user=users["alice"])
    do_request_analysis(membership, actor=users["alice"])
    [run] = process_queued()
    assert run.status == "failed" and "no data yet" in run.error


def test_a_study_without_any_design_is_analysed_as_a_simple_random_sample(big_cohort, users):
    from fibrosurvey.web.analyses.services import SRS_NOTE, do_request_analysis, process_queued
    from fibrosurvey.web.exports.models import DesignVariables

    DesignVariables.objects.all().delete()  # e.g. the demo study, enrolled on the web
    membership = big_cohort.memberships.get(user=users["anna"])
    queued = do_request_analysis(membership, actor=users["anna"], imputations=0)
    [run] = process_queued()
    assert run.pk == queued.pk and run.status == "done", run.error
    assert run.notes == SRS_NOTE
    assert run.results["plan_sha256"] == run.plan_sha256 and run.results["plan_text"]


def test_a_study_with_design_for_some_participants_only_fails_naming_the_gap(big_cohort, users):
    from fibrosurvey.web.analyses.services import do_request_analysis, process_queued
    from fibrosurvey.web.exports.models import DesignVariables

    DesignVariables.objects.filter(pk__in=DesignVariables.objects.values("pk")[:5]).delete()
    membership = big_cohort.memberships.get(user=users["anna"])
    do_request_analysis(membership, actor=users["anna"], imputations=0)
    [run] = process_queued()
    assert run.status == "failed" and "design_weight" in run.error and not run.notes


def test_open_link_recruits_without_design_make_the_whole_sample_unweighted_not_a_failure():
    """Staff-enrolled participants of a probability sample plus open-link recruits (who
    joined outside the design): no design covers them all, so the run analyses the whole
    sample unweighted and says how many came through the link; a gap among staff-enrolled
    participants is still left to the core, which names it."""
    from fibrosurvey.web.analyses.services import _with_design

    frame = pl.DataFrame(
        {
            "participant_id": ["S1", "S1", "S2", "W1", "W2"],
            "design_weight": [2.5, 2.5, 4.0, None, None],
            "design_stratum": [1, 1, 2, None, None],
            "design_psu": [10, 10, 20, None, None],
            "design_fpc": [100.0, 100.0, 80.0, None, None],
            "recruitment_source": [None, None, None, "direct", "patient-newsletter"],
        }
    )
    analysed, note = _with_design(frame)
    assert note.startswith("2 participant(s) joined through the open recruitment link")
    assert analysed["design_weight"].to_list() == [1.0] * 5
    assert analysed["design_stratum"].unique().to_list() == [1]
    assert analysed["design_psu"].to_list() == [1, 1, 2, 3, 4]
    assert analysed["design_fpc"].null_count() == 5

    staff_gap = frame.with_columns(
        pl.when(pl.col("participant_id") == "S2")
        .then(None)
        .otherwise(pl.col("design_weight"))
        .alias("design_weight")
    )
    left, no_note = _with_design(staff_gap)
    assert left is staff_gap and no_note == ""
    designed = frame.filter(pl.col("recruitment_source").is_null())
    kept, no_note = _with_design(designed)
    assert kept is designed and no_note == ""


def test_a_run_left_running_by_a_dead_worker_is_requeued_and_then_processed(study, users):
    import datetime as dt

    from django.utils import timezone

    from fibrosurvey.web.analyses.services import do_request_analysis

    membership = study.memberships.get(user=users["alice"])
    run = do_request_analysis(membership, actor=users["alice"])
    AnalysisRun.objects.filter(pk=run.pk).update(
        status="running", started_at=timezone.now() - dt.timedelta(hours=3)
    )
    call_command("run_analysis_jobs", "--once", "--stale-minutes", "60")
    run.refresh_from_db()
    # Re-queued, then processed by the same pass (it fails: this study has no data).
    assert run.status == "failed" and "no data yet" in run.error
    reasons = [a.after.get("reason") for a in AuditRecord.objects.filter(object_id=str(run.pk))]
    assert "no result after 60 minutes" in reasons
