"""Participant flow per source (STROBE item 13) and the analysis columns: the numbers are
the database's."""

from __future__ import annotations

import polars as pl
from django.test import Client
from django.urls import reverse

from fibrosurvey.recruitment import apply_exclusion
from fibrosurvey.recruitment.quality import FLOW_STAGES
from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.recruitment.flow import (
    flow_report,
    recruitment_frame,
    with_recruitment_columns,
)
from fibrosurvey.web.recruitment.models import Visit
from tests.web.recruitment.conftest import (
    ELIGIBLE,
    database_flow_counts,
    start_and_complete,
    straight_answer,
    varied_answer,
)


def _token(reply):
    return reply.url.strip("/").split("/")[2]


def _build_flow(client, open_link, visit_and_screen):
    """newsletter: 1 bare visit, 1 ineligible, 1 enrolled not consented, 1 complete
    (careful); direct: 1 consented and started, 1 complete (straight-lined, too fast)."""
    client.get(reverse("recruitment:landing", args=[open_link.slug]) + "?src=patient-newsletter")
    visit_and_screen(Client(), ELIGIBLE | {"country": "other"}, src="patient-newsletter")
    visit_and_screen(Client(), src="patient-newsletter")
    careful = Client()
    token = _token(visit_and_screen(careful, src="patient-newsletter"))
    start_and_complete(careful, token, ELIGIBLE_ANSWERS, page_seconds=20)
    started = Client()
    token = _token(visit_and_screen(started))
    started.post(reverse("recruitment:consent", args=[token]), {"agree": "yes"})
    started.post(reverse("recruitment:contact", args=[token]), {"action": "skip"})
    started.post(reverse("survey:page", args=[token, 1]), {"nonce": "first"})
    fast = Client()
    start_and_complete(fast, _token(visit_and_screen(fast)), straight_answer)


ELIGIBLE_ANSWERS = varied_answer


def test_flow_counts_per_source_equal_the_database(client, open_link, study, visit_and_screen):
    _build_flow(client, open_link, visit_and_screen)

    report = flow_report(study)

    expected = database_flow_counts(study)
    assert {s.key: s.count for s in report.stages} == expected
    assert expected == {
        "visited": 6,
        "screened": 5,
        "eligible": 4,
        "enrolled": 4,
        "consented": 3,
        "started": 3,
        "completed": 2,
        "analysed": 1,
    }
    assert report.by_source["patient-newsletter"] == {
        "visited": 4,
        "screened": 3,
        "eligible": 2,
        "enrolled": 2,
        "consented": 1,
        "started": 1,
        "completed": 1,
        "analysed": 1,
    }
    assert report.by_source["direct"]["completed"] == 1
    assert report.by_source["direct"]["analysed"] == 0
    assert report.by_source["clinic-poster"]["visited"] == 0
    assert report.not_eligible == 1
    assert report.exclusion.by_reason == {"straightlining": 1, "too_fast": 1}


def test_staff_flow_page_shows_the_same_numbers(login, open_link, study, visit_and_screen):
    _build_flow(Client(), open_link, visit_and_screen)
    page = login("vera").get(reverse("recruitment:flow", args=[study.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "/r/fibro-survey/?src=patient-newsletter" in html
    for stage in flow_report(study).stages:
        assert f'data-stage="{stage.key}"><span class="big">{stage.count}</span>' in html
    assert "1 of 2 participants were excluded for response quality" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    assert ">straightlining: 1</tspan>" in html and ">too_fast: 1</tspan>" in html


def test_analysis_columns_carry_source_screener_answers_and_flags(
    client, open_link, study, visit_and_screen
):
    _build_flow(client, open_link, visit_and_screen)
    frame = recruitment_frame(study)
    assert frame.columns == [
        "participant_id",
        "recruitment_source",
        "screener_age",
        "screener_diagnosis",
        "screener_pain_3_months",
        "screener_years_with_pain",
        "screener_country",
        "screener_sex",
        "quality_flag",
        "quality_reasons",
    ]
    assert frame.height == Participant.objects.filter(recruitment__isnull=False).count() == 4
    assert frame["screener_age"].to_list() == [45, 45, 45, 45]
    flagged = frame.filter(pl.col("quality_flag"))
    assert flagged["quality_reasons"].to_list() == ["straightlining;too_fast"]
    assert flagged["recruitment_source"].to_list() == ["direct"]

    staff_enrolled = pl.DataFrame({"participant_id": ["FS-STAFF1"], "event": ["baseline"]})
    dataset = with_recruitment_columns(
        pl.concat(
            [staff_enrolled, frame.select("participant_id").with_columns(event=pl.lit("baseline"))]
        ),
        study,
    )
    kept, summary = apply_exclusion(dataset)
    assert (summary.participants, summary.excluded) == (5, 1)
    assert "FS-STAFF1" in kept["participant_id"].to_list()  # no flag: not excluded


def test_flagged_participants_are_listed_with_reasons_for_enrollers_only(
    login, open_link, study, visit_and_screen
):
    _build_flow(Client(), open_link, visit_and_screen)
    url = reverse("recruitment:flow", args=[study.pk])
    carol = login("carol").get(url).content.decode()  # the page assesses completed surveys
    flagged = Visit.objects.get(flags__reason="straightlining").participant.study_code
    assert flagged in carol and "straightlining (" in carol
    assert flagged not in login("vera").get(url).content.decode()  # viewer: counts only
    assert flagged not in login("sam").get(url).content.decode()  # south only; this is north


def test_open_link_participants_with_an_e_mail_get_follow_ups_and_reminders(
    open_link, study, visit_and_screen, mailoutbox
):
    from datetime import timedelta

    from django.utils import timezone

    from fibrosurvey.web.participants.schedule import do_send_due_invitations

    finisher, pauser = Client(), Client()
    token = _token(visit_and_screen(finisher))
    finisher.post(reverse("recruitment:consent", args=[token]), {"agree": "yes"})
    saved = finisher.post(reverse("recruitment:contact", args=[token]), {"email": "f@example.org"})
    start_and_complete(finisher, saved.url.strip("/").split("/")[1], varied_answer)
    token = _token(visit_and_screen(pauser))
    pauser.post(reverse("recruitment:consent", args=[token]), {"agree": "yes"})
    pauser.post(reverse("recruitment:contact", args=[token]), {"email": "p@example.org"})
    mailoutbox.clear()

    week = do_send_due_invitations(timezone.now() + timedelta(days=8))
    assert (week.invited, week.reminded) == (0, 1)
    assert [m.to[0] for m in mailoutbox] == ["p@example.org"]  # a reminder to finish
    followup = study.events.filter(day_offset__gt=0).order_by("day_offset").first()
    later = do_send_due_invitations(timezone.now() + timedelta(days=followup.day_offset + 1))
    assert later.invited == 1
    assert mailoutbox[-1].to == ["f@example.org"]  # the follow-up survey


def test_the_reports_flow_diagram_shows_the_database_counts_and_the_export_carries_the_flags(
    login, open_link, study, users, visit_and_screen
):
    """A study with staff-enrolled participants (the synthetic cohort, with blood samples) and
    open-link visitors: a bare visit, an ineligible one, a scripted bot (honeypot filled), a
    second visit from the same device, careful and careless completers. The report's diagram
    has the database's numbers; the export and the analysed data carry source, screener
    answers and flags, and the plan's quality exclusion leaves the flagged out."""
    from fibrosurvey.synth import generate
    from fibrosurvey.web.analyses.services import do_request_analysis, process_queued
    from fibrosurvey.web.cohort import load_cohort
    from fibrosurvey.web.exports.dataset import DatasetBuilder
    from fibrosurvey.web.exports.models import DesignVariables

    cohort = generate("seed-claims", 160, 11, score=False).data
    load_cohort(study, cohort.with_columns(pl.lit("south").alias("site")))
    DesignVariables.objects.all().delete()  # a web study: analysed as a simple random sample
    _build_flow(Client(), open_link, visit_and_screen)
    bot = Client()
    start_and_complete(
        bot,
        _token(visit_and_screen(bot, honeypot="http://x.example")),
        varied_answer,
        page_seconds=20,
    )
    again = Client()
    start_and_complete(again, _token(visit_and_screen(again)), varied_answer, page_seconds=20)
    start_and_complete(again, _token(visit_and_screen(again)), varied_answer, page_seconds=25)

    membership = study.memberships.get(user=users["anna"])
    do_request_analysis(membership, actor=users["anna"], imputations=0)
    [run] = process_queued()
    assert run.status == "done", run.error

    # The database's counts, computed here without the flow code.
    expected = database_flow_counts(study)
    assert expected == {
        "visited": 9,
        "screened": 8,
        "eligible": 7,
        "enrolled": 7,
        "consented": 6,
        "started": 6,
        "completed": 5,
        # Only the careful completer: the careless one (too fast, straight-lined), the bot
        # (honeypot) and the returning device's two completions (the second from the same
        # device; all three with the careful one's answers) are flagged.
        "analysed": 1,
    }
    html = run.report_html
    stages = {s["key"]: s["count"] for s in run.results["flow"]["stages"]}
    assert stages == expected
    for key, label in FLOW_STAGES:
        assert f'<tspan font-weight="bold">{expected[key]}</tspan> {label}' in html, key
    assert run.results["flow"]["excluded_by_reason"] == {
        "duplicate_answers": 3,
        "duplicate_device": 1,
        "honeypot": 1,
        "straightlining": 1,
        "too_fast": 1,
    }

    # The export and the analysed table: the same columns, the recruitment ones included.
    frame = DatasetBuilder(study).frame()
    for column in ("recruitment_source", "screener_age", "quality_flag", "quality_reasons"):
        assert column in frame.columns
    assert run.results["provenance"]["columns"] == frame.width
    flagged = frame.filter(pl.col("quality_flag").fill_null(False))
    excluded = run.results["exclusion"]
    assert excluded["excluded"] == flagged["participant_id"].n_unique()
    assert excluded["rows_excluded"] == flagged.height
    staff = frame.filter(pl.col("recruitment_source").is_null())
    assert staff["participant_id"].n_unique() == 160  # staff-enrolled: no source, not flagged
    assert "were excluded for response quality" in html
