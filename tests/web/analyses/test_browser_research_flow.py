"""A researcher in real Chromium: log in, create a study from the template, enrol by CSV,
import lab results (a bad file is refused with its report, then a good one), export the
dataset, run the analysis and read the report. Screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from django.core.management import call_command

from fibrosurvey.web.analyses.models import AnalysisRun
from fibrosurvey.web.labs.models import LabResult
from fibrosurvey.web.studies.models import Study
from tests.web.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-output" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ENROL_CSV = (
    "study_code,site,language,email\n"
    "R001,north,en,r001@example.org\n"
    "R002,north,es,r002@example.org\n"
    "R003,south,en,r003@example.org\n"
)
LAB_HEADER = (
    "participant_id,event,analyte,value,unit,lloq,lab_matrix,lab_assay,lab_batch,"
    "lab_minutes_to_centrifuge\n"
)
GOOD_LABS = LAB_HEADER + (
    "R001,baseline,aea,1,ng/mL,0.05,plasma,LC-MS/MS v2,B7,20\n"
    "R001,baseline,2-AG,9.5,ng/mL,0.5,plasma,LC-MS/MS v2,B7,20\n"
    "R002,baseline,aea,<LLOQ,ng/mL,0.05,plasma,LC-MS/MS v2,B7,45\n"
    "R003,baseline,pea,12.1,nM,0.2,serum,LC-MS/MS v2,B8,15\n"
)
BAD_LABS = LAB_HEADER + (
    "R001,baseline,aea,1,ng/mL,0.05,plasma,LC-MS/MS v2,B7,20\n"
    "R009,baseline,aea,1,ng/mL,0.05,plasma,LC-MS/MS v2,B7,20\n"
    "R002,baseline,oea,3,mg/dL,0.05,plasma,LC-MS/MS v2,B7,20\n"
)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def _fieldwork(study: Study) -> None:
    """Stand-in for months of fieldwork: a synthetic cohort loaded into the study, and the
    sampling design of the three participants enrolled by CSV (there is no page for design
    variables yet; the default plan's design-based estimates need a weight on every row)."""
    from fibrosurvey.synth import generate
    from fibrosurvey.web.cohort import load_cohort
    from fibrosurvey.web.exports.models import DesignVariables

    data = generate("seed-claims", 150, 5, score=False).data
    data = data.with_columns(
        pl.when(pl.col("design_psu") % 2 == 0)
        .then(pl.lit("north"))
        .otherwise(pl.lit("south"))
        .alias("site")
    )
    load_cohort(study, data)
    for participant in study.participants.filter(study_code__startswith="R"):
        twin = DesignVariables.objects.filter(
            participant__study=study, participant__site=participant.site
        ).first()
        DesignVariables.objects.create(
            participant=participant,
            stratum=twin.stratum,
            psu=twin.psu,
            weight=twin.weight,
            fpc=twin.fpc,
        )


def test_researcher_sets_up_imports_labs_exports_and_runs_the_analysis(
    live_server, browser, users, tmp_path, monkeypatch
):
    monkeypatch.setenv("FIBROSURVEY_ANALYSIS_IN_PROCESS", "0")  # the worker runs it below
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()

    def shot(name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"research-{name}.png"), full_page=True)

    def upload(label: str, name: str, content: str) -> None:
        page.get_by_label(label).set_input_files(
            {"name": name, "mimeType": "text/csv", "buffer": content.encode()}
        )

    # Log in and create a study from the template.
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/studies/new/")
    page.get_by_label("Study name").fill("Endocannabinoids in FM 2027")
    page.get_by_label("Sites, one per line as code: name").fill(
        "north: North hospital\nsouth: South clinic"
    )
    page.get_by_role("button", name="Create study").click()
    study = Study.objects.get(name="Endocannabinoids in FM 2027")

    # Enrol three participants by CSV.
    page.get_by_role("link", name="Participants").first.click()
    page.goto(f"{live_server.url}/studies/{study.pk}/participants/import/")
    upload("CSV file (UTF-8)", "enrol.csv", ENROL_CSV)
    page.get_by_role("button", name="Check and enrol").click()
    assert study.participants.count() == 3
    _fieldwork(study)

    # Lab results: a bad file is refused with a row-level report, nothing stored.
    page.get_by_role("navigation", name="Study").get_by_role("link", name="Lab samples").click()
    page.get_by_role("link", name="Import lab results (CSV)").click()
    upload("Lab results CSV (UTF-8)", "labs-bad.csv", BAD_LABS)
    page.get_by_role("button", name="Check and import").click()
    report = page.locator(".error-summary").inner_text()
    assert "2 problems found; nothing was imported" in report
    rows = page.locator("table tbody tr").all_inner_texts()
    assert any("R009" in r and "participant_id" in r for r in rows)
    assert any("mg/dL" in r and "ng/mL" in r for r in rows)
    assert not LabResult.objects.filter(sample__participant__study_code__startswith="R").exists()
    shot("01-lab-import-refused")

    # ... then the corrected file goes in.
    upload("Lab results CSV (UTF-8)", "labs.csv", GOOD_LABS)
    page.get_by_role("button", name="Check and import").click()
    assert "Imported 4 results in 3 new samples" in page.locator(".messages").inner_text()
    aea = LabResult.objects.get(sample__participant__study_code="R001", analyte="aea")
    assert aea.value_pmol_ml == pytest.approx(2.8777, abs=5e-5)
    shot("02-lab-samples")

    # Export the de-identified dataset.
    page.get_by_role("navigation", name="Study").get_by_role("link", name="Exports").click()
    shot("03-exports")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Dataset (CSV)").click()
    path = tmp_path / "dataset.csv"
    download_info.value.save_as(path)
    exported = pl.read_csv(path, infer_schema_length=None)
    assert "r001@example.org" not in path.read_text()
    r001 = exported.filter((pl.col("participant_id") == "R001") & (pl.col("event") == "baseline"))
    assert r001["aea"].to_list() == [pytest.approx(2.8777, abs=5e-5)]
    assert exported["participant_id"].n_unique() == 153

    # Run the default analysis plan; the worker picks it up; the report is shown.
    page.get_by_role("link", name="Run the analysis").click()
    page.get_by_role("button", name="Run analysis").click()
    assert "Waiting for the analysis worker" in page.content()
    shot("04-analysis-queued")
    call_command("run_analysis_jobs", "--once")
    run = AnalysisRun.objects.get(study=study)
    assert run.status == "done", run.error
    # The queued page refreshes itself (Refresh header) until the run is done.
    page.wait_for_selector("h1 .badge.status-done", timeout=30_000)
    page.wait_for_load_state("load")
    frame = page.frame_locator("iframe.report-frame")
    assert frame.locator("h1").first.inner_text()
    page.wait_for_timeout(500)
    shot("05-analysis-report")
    page.get_by_role("link", name="All runs").click()
    assert run.data_sha256[:10] in page.content()
    shot("06-analysis-history")

    # The API documentation renders (Swagger UI from our own static files, allowed by the CSP).
    page.goto(f"{live_server.url}/api/docs")
    page.get_by_text("/api/studies/{study_id}/labs").first.wait_for(timeout=30_000)
    shot("07-api-docs")
    context.close()
