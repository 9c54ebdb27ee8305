"""Site limits in analyses: a site-limited analyst's run holds their site's data only, and
only those who could request a run may read it (another site's analyst: 404; viewers and
coordinators: 403)."""

from __future__ import annotations

import polars as pl
import pytest
from django.urls import reverse

from fibrosurvey.web.analyses.models import AnalysisRun
from fibrosurvey.web.analyses.services import do_request_analysis, process_queued
from fibrosurvey.web.exports.dataset import DatasetBuilder
from fibrosurvey.web.exports.models import AnalysisRunScope


@pytest.fixture
def south_analyst(study, users):
    """An analyst limited to the south site (the persona of the issue)."""
    from django.contrib.auth import get_user_model

    from fibrosurvey.web.studies.services import do_add_member

    user = get_user_model().objects.create_user("sandy", "sandy@example.org", "pw-sandy-123456")
    do_add_member(
        study, user=user, role="analyst", actor=users["alice"], site=study.sites.get(code="south")
    )
    return user


@pytest.fixture
def north_analyst(study, users):
    from django.contrib.auth import get_user_model

    from fibrosurvey.web.studies.services import do_add_member

    user = get_user_model().objects.create_user("nora", "nora@example.org", "pw-nora-1234567")
    do_add_member(
        study, user=user, role="analyst", actor=users["alice"], site=study.sites.get(code="north")
    )
    return user


def _run_for(study, user, monkeypatch):
    monkeypatch.setenv("FIBROSURVEY_ANALYSIS_IN_PROCESS", "0")
    membership = study.memberships.get(user=user)
    queued = do_request_analysis(membership, actor=user, imputations=0)
    [run] = process_queued()
    assert run.pk == queued.pk
    return run


def test_a_site_limited_analysts_run_holds_only_their_sites_rows(
    cohort, south_analyst, users, monkeypatch
):
    study, data = cohort
    south_rows = data.filter(pl.col("site") == "south").height
    assert 0 < south_rows < data.height

    run = _run_for(study, south_analyst, monkeypatch)

    assert run.rows == south_rows, run.error
    assert AnalysisRunScope.objects.get(run=run).site.code == "south"
    assert "site south only" in run.notes
    south = study.sites.get(code="south")
    expected = DatasetBuilder(study, site=south).frame()
    assert set(expected["site"]) == {"south"} and expected.height == south_rows
    # A study-wide analyst's run still holds every site.
    everyone = _run_for(study, users["anna"], monkeypatch)
    assert everyone.rows == data.height
    assert AnalysisRunScope.objects.get(run=everyone).site is None


def test_only_those_who_could_request_a_run_may_read_it(
    cohort, south_analyst, north_analyst, users, login, client, monkeypatch
):
    study, _ = cohort
    AnalysisRun.objects.all().delete()
    south_run = AnalysisRun.objects.create(
        study=study,
        requested_by=south_analyst,
        plan_source="default",
        plan_text="x",
        plan_sha256="0" * 64,
        status="done",
        report_html="<html>south report</html>",
    )
    AnalysisRunScope.objects.create(run=south_run, site=study.sites.get(code="south"))
    wide_run = AnalysisRun.objects.create(
        study=study,
        requested_by=users["anna"],
        plan_source="default",
        plan_text="x",
        plan_sha256="0" * 64,
        status="done",
        report_html="<html>every site</html>",
    )
    AnalysisRunScope.objects.create(run=wide_run, site=None)

    def status(user, run):
        client.force_login(user)
        return client.get(reverse("analyses:report", args=[study.pk, run.pk])).status_code

    expected = {
        "alice": (200, 200),
        "anna": (200, 200),
        "carol": (403, 403),
        "vera": (403, 403),
        "sam": (403, 403),
    }
    for persona, (south_status, wide_status) in expected.items():
        assert status(users[persona], south_run) == south_status, persona
        assert status(users[persona], wide_run) == wide_status, persona
    assert status(south_analyst, south_run) == 200
    assert status(south_analyst, wide_run) == 404  # holds other sites' data
    assert status(north_analyst, south_run) == 404
    assert status(users["oscar"], south_run) == 404
    client.force_login(south_analyst)
    listing = client.get(reverse("analyses:index", args=[study.pk])).content.decode()
    assert f"/analyses/{south_run.pk}/" in listing and f"/analyses/{wide_run.pk}/" not in listing
    client.force_login(users["vera"])
    listing = client.get(reverse("analyses:index", args=[study.pk])).content.decode()
    assert f"/analyses/{south_run.pk}/" not in listing


def test_a_run_queued_before_scopes_takes_its_requesters_current_site(
    cohort, south_analyst, monkeypatch
):
    study, data = cohort
    monkeypatch.setenv("FIBROSURVEY_ANALYSIS_IN_PROCESS", "0")
    run = do_request_analysis(
        study.memberships.get(user=south_analyst), actor=south_analyst, imputations=0
    )
    AnalysisRunScope.objects.filter(run=run).delete()
    [done] = process_queued()
    assert done.rows == data.filter(pl.col("site") == "south").height
