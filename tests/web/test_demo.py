"""The demo study built from the synthetic cohort (what `make run` shows)."""

from __future__ import annotations

import io

import polars as pl
import pytest
from django.core.management import call_command
from django.urls import reverse

from fibrosurvey.scoring import score_response
from fibrosurvey.synth import generate
from fibrosurvey.web.demo import DEMO_PASSWORD, DEMO_USERNAME, build_demo, synthetic_lab_csv
from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.survey.models import Response, SafetyAlert

N, SEED = 30, 11


@pytest.fixture
def demo(db):
    return build_demo(N, SEED)


def test_demo_holds_the_synthetic_cohort_and_one_fresh_participant(demo):
    data = generate("seed-claims", N, SEED).data
    assert demo.participants == N + 1
    assert Participant.objects.filter(study=demo.study).count() == N + 1
    expected_alerts = data.filter(pl.col("phq9_9") > 0).height
    assert demo.alerts == expected_alerts == SafetyAlert.objects.filter(study=demo.study).count()
    baseline = data.filter(pl.col("event") == "baseline").height
    followup = data.filter(pl.col("event") == "followup_3m").height
    assert demo.responses == baseline * 12 + followup * 5


def test_demo_scores_agree_with_the_cores_score_response(demo):
    for response in Response.objects.filter(participant__study=demo.study)[:60]:
        expected = score_response(response.answers, response.instrument_id)
        for column, value in expected.items():
            if isinstance(value, float):
                assert response.scores[column] == pytest.approx(value), column
            else:
                assert response.scores[column] == value, column


def test_demo_lab_results_go_through_the_labs_import(demo):
    data = generate("seed-claims", N, SEED).data
    sampled = data.filter(pl.col("lab_matrix").is_not_null()).height
    from django.apps import apps

    if apps.is_installed("fibrosurvey.web.labs"):
        assert demo.lab_results == 5 * sampled
    csv = synthetic_lab_csv(data)
    assert csv.splitlines()[0].startswith("participant_id,event,analyte,value,unit,lloq")
    assert len(csv.splitlines()) == 1 + 5 * sampled


def test_demo_login_and_fresh_link_work(demo, client):
    logged_in = client.post(
        reverse("accounts:login"), {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}
    )
    assert logged_in.status_code == 302
    page = client.get(reverse("dashboard:study", args=[demo.study.pk]))
    assert page.status_code == 200
    client.logout()
    entry = client.get(reverse("survey:entry", args=[demo.fresh_token]))
    assert entry.url == reverse("survey:consent", args=[demo.fresh_token])


def test_demo_setup_command_prints_the_login_and_the_links(db, settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("demo_setup", "--participants", "12", "--no-migrate", stdout=out)
    text = out.getvalue()
    assert f"Log in as:   {DEMO_USERNAME} / {DEMO_PASSWORD}" in text
    assert "/s/" in text
    assert "Public link: http://127.0.0.1:8000/r/demo-survey/\n" in text
    assert Participant.objects.filter(study__name__startswith="Demo").count() == 13


def test_a_second_demo_setup_keeps_what_was_done_and_says_how_to_reset(db, settings):
    settings.DEBUG = True
    first, second = io.StringIO(), io.StringIO()
    call_command("demo_setup", "--participants", "12", "--no-migrate", stdout=first)
    kept = Participant.objects.get(study__name__startswith="Demo", study_code="DEMO-NEW")
    kept.withdrawn_at = kept.enrolled_at
    kept.save()

    call_command("demo_setup", "--participants", "12", "--no-migrate", stdout=second)

    text = second.getvalue()
    assert "kept as it was: 14 participants" in text
    assert "To delete it and start again: make run RESET=1" in text
    assert "Building" not in text
    assert Participant.objects.get(pk=kept.pk).withdrawn_at is not None
    # The withdrawn fresh participant's link no longer works: a new one is enrolled.
    assert "Participant link (fresh survey for DEMO-NEW-2)" in text
    assert "Public link: http://127.0.0.1:8000/r/demo-survey/\n" in text


def test_an_unused_fresh_link_is_shown_again_when_the_demo_is_kept(db, settings, client):
    settings.DEBUG = True
    first, second = io.StringIO(), io.StringIO()
    call_command("demo_setup", "--participants", "12", "--no-migrate", stdout=first)
    call_command("demo_setup", "--participants", "12", "--no-migrate", stdout=second)

    def link(text):
        return text.split("Participant link (fresh survey for DEMO-NEW):\n")[1].split()[0]

    assert link(first.getvalue()) == link(second.getvalue())
    assert client.get(link(second.getvalue())).status_code == 302  # -> consent


def test_demo_setup_reset_builds_the_study_again_and_says_so(db, settings):
    settings.DEBUG = True
    call_command("demo_setup", "--participants", "12", "--no-migrate", stdout=io.StringIO())
    study = Participant.objects.get(study_code="DEMO-NEW").study
    out = io.StringIO()

    call_command("demo_setup", "--participants", "12", "--no-migrate", "--reset", stdout=out)

    assert "Reset requested: deleting the demo study and its data." in out.getvalue()
    assert not type(study).objects.filter(pk=study.pk).exists()
    assert Participant.objects.filter(study__name__startswith="Demo").count() == 13


def test_demo_links_use_the_site_url_make_run_sets_from_host_and_port(db, settings):
    settings.DEBUG = True
    settings.SITE_URL = "http://127.0.0.1:8101"
    out = io.StringIO()
    call_command("demo_setup", "--participants", "12", "--no-migrate", stdout=out)
    assert "Public link: http://127.0.0.1:8101/r/demo-survey/\n" in out.getvalue()


def test_demo_setup_refuses_without_debug(db, settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=1"):
        call_command("demo_setup", "--no-migrate")
