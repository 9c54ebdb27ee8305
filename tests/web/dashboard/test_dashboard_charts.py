"""The dashboard's pictures: inline SVG drawn on the server (no script, no inline style),
each with a title, a description and a data table whose numbers are the database's."""

from __future__ import annotations

import copy
import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from fibrosurvey.recruitment import DEFAULT_SCREENER
from fibrosurvey.web.participants.enrolment import do_enrol_participant
from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.recruitment.flow import flow_report
from fibrosurvey.web.recruitment.models import Visit
from fibrosurvey.web.recruitment.services import do_open_recruitment


def _figure(page, key):
    start = page.index(f'id="chart-{key}"')
    return page[start : page.index("</figure>", start)]


def _table_rows(figure):
    body = figure[figure.index("<tbody>") : figure.index("</tbody>")]
    return [
        re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in body.split("</tr>") if "<td" in row
    ]


def _enrol_over_days(study):
    north, south = study.sites.get(code="north"), study.sites.get(code="south")
    today = timezone.now()
    for days_ago, site in ((3, north), (3, north), (2, south), (0, north)):
        participant = do_enrol_participant(study, site=site, actor=None)
        Participant.objects.filter(pk=participant.pk).update(
            enrolled_at=today - timedelta(days=days_ago)
        )
    return today.date()


def test_enrolment_by_site_is_an_accessible_svg_with_the_databases_numbers(study, login):
    today = _enrol_over_days(study)

    page = login("alice").get(reverse("dashboard:study", args=[study.pk])).content.decode()
    figure = _figure(page, "enrolment-site")

    assert '<svg xmlns="http://www.w3.org/2000/svg"' in figure and 'role="img"' in figure
    assert 'aria-labelledby="enrolment-site-title enrolment-site-desc"' in figure
    assert '<title id="enrolment-site-title">Enrolment over time, by site</title>' in figure
    assert '<desc id="enrolment-site-desc">' in figure
    day = lambda n: (today - timedelta(days=n)).isoformat()  # noqa: E731
    assert _table_rows(figure) == [
        [day(3), "2", "0"],
        [day(2), "0", "1"],
        [day(0), "1", "0"],
        ["total", "3", "1"],
    ]
    assert "north (3)" in figure and "south (1)" in figure  # the legend's running totals


def test_staff_enrolments_and_open_link_sources_are_told_apart(study, users, login):
    _enrol_over_days(study)
    link = do_open_recruitment(study, actor=users["alice"], slug="fibro", sources=["news"])
    joined = do_enrol_participant(study, site=study.sites.get(code="north"), actor=None)
    Visit.objects.create(
        study=link.study, key="v1", device_hash="d", source="news", participant=joined
    )

    page = login("alice").get(reverse("dashboard:study", args=[study.pk])).content.decode()
    figure = _figure(page, "enrolment-source")

    assert "news (1)" in figure and "staff enrolment (4)" in figure


def test_the_pages_pictures_hold_no_script_and_no_inline_style(study, users, login):
    _enrol_over_days(study)
    do_open_recruitment(study, actor=users["alice"], slug="fibro")

    response = login("alice").get(reverse("dashboard:study", args=[study.pk]))
    page = response.content.decode()

    assert "<script" not in page and "style=" not in page and "<style" not in page
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert page.count("<svg") == 4  # enrolment by source and site, completion, the funnel


def test_the_funnel_shows_the_flow_reports_counts(study, users, login):
    link = do_open_recruitment(study, actor=users["alice"], slug="fibro")
    now = timezone.now()
    for i, (screened, eligible) in enumerate([(True, True), (True, False), (False, None)]):
        Visit.objects.create(
            study=link.study,
            key=f"v{i}",
            device_hash=f"d{i}",
            screened_at=now if screened else None,
            eligible=eligible,
        )

    page = login("alice").get(reverse("dashboard:study", args=[study.pk])).content.decode()
    rows = _table_rows(_figure(page, "funnel"))

    expected = [[stage.label, str(stage.count)] for stage in flow_report(study).stages]
    assert rows == expected
    assert rows[0][1] == "3" and rows[1][1] == "2" and rows[2][1] == "1"


def test_quota_fill_is_drawn_against_each_limit(study, users, login):
    config = copy.deepcopy(DEFAULT_SCREENER)
    config["quotas"] = [
        {"name": "women", "question": "sex", "values": ["female"], "limit": 4},
        {"name": "men", "question": "sex", "values": ["male"], "limit": 2},
    ]
    link = do_open_recruitment(study, actor=users["alice"], slug="fibro", screener=config)
    for i in range(3):
        Visit.objects.create(
            study=link.study,
            key=f"w{i}",
            device_hash="d",
            screened_at=timezone.now(),
            eligible=True,
            outcome="enrolled",
            quota_cells=["women"],
        )

    page = login("alice").get(reverse("dashboard:study", args=[study.pk])).content.decode()
    figure = _figure(page, "quotas")

    assert _table_rows(figure) == [["women", "3", "4"], ["men", "0", "2"]]
    assert ">3 / 4</text>" in figure and ">0 / 2</text>" in figure


def test_a_site_limited_member_sees_their_sites_pictures_only(study, users, login):
    _enrol_over_days(study)
    do_open_recruitment(study, actor=users["alice"], slug="fibro")

    page = login("sam").get(reverse("dashboard:study", args=[study.pk])).content.decode()

    assert _table_rows(_figure(page, "enrolment-site"))[-1] == ["total", "1"]
    assert 'id="chart-funnel"' not in page  # the open link counts the whole study


def test_past_seven_series_the_smallest_are_summed_into_others():
    from datetime import date

    from fibrosurvey.web.dashboard.charts import cumulative_chart

    per_day = {f"site-{i}": {date(2026, 1, 1): i + 1} for i in range(10)}

    chart = cumulative_chart("k", "t", "d", per_day, label="Day")

    assert chart.headers == [
        "Day",
        "site-9",
        "site-8",
        "site-7",
        "site-6",
        "site-5",
        "site-4",
        "4 others",
    ]
    assert chart.rows[-1] == ["total", 10, 9, 8, 7, 6, 5, 1 + 2 + 3 + 4]
    assert chart.svg.count("<circle") == 7
