"""The numbers behind the dashboard's pictures, each one aggregated by the database
(counts per day and group), restricted to the member's sites."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import Count, F, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils.translation import gettext as _

from fibrosurvey.web.dashboard.charts import Chart, bar_chart, cumulative_chart
from fibrosurvey.web.participants.models import Invitation, Participant
from fibrosurvey.web.recruitment.flow import flow_report
from fibrosurvey.web.recruitment.models import OpenLink
from fibrosurvey.web.recruitment.services import quota_fill
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import filter_to_site

__all__ = ["dashboard_charts"]

PerDay = dict[str, dict[date, int]]


def _per_day(rows: list[tuple[str, date, int]]) -> PerDay:
    out: PerDay = defaultdict(dict)
    for group, day, n in rows:
        out[group][day] = out[group].get(day, 0) + n
    return dict(sorted(out.items()))


def enrolment_per_day(membership: Membership, by: str) -> PerDay:
    """Enrolments per day and site (``by="site"``) or recruitment source (``"source"``;
    participants enrolled by the team, not through the open link, are "staff")."""
    participants = filter_to_site(Participant.objects.filter(study=membership.study), membership)
    group = (
        F("site__code")
        if by == "site"
        else Coalesce(F("recruitment__source"), Value(str(_("staff enrolment"))))
    )
    rows = (
        participants.annotate(day=TruncDate("enrolled_at"), group=group)
        .values_list("group", "day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return _per_day([(str(g), d, n) for g, d, n in rows])


def completion_per_day(membership: Membership) -> PerDay:
    """Completed surveys per day and event."""
    invitations = filter_to_site(
        Invitation.objects.filter(participant__study=membership.study, completed_at__isnull=False),
        membership,
        site_field="participant__site",
    )
    rows = (
        invitations.annotate(day=TruncDate("completed_at"))
        .values_list("event__code", "day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return _per_day(list(rows))


def dashboard_charts(membership: Membership) -> list[Chart]:
    day = _("Day")
    charts = [
        cumulative_chart(
            "enrolment-source",
            _("Enrolment over time, by recruitment source"),
            _("Participants enrolled so far, per recruitment source; the table gives each day."),
            enrolment_per_day(membership, "source"),
            label=day,
        ),
        cumulative_chart(
            "enrolment-site",
            _("Enrolment over time, by site"),
            _("Participants enrolled so far, per site; the table gives each day."),
            enrolment_per_day(membership, "site"),
            label=day,
        ),
        cumulative_chart(
            "completion",
            _("Completed surveys over time, by event"),
            _("Surveys completed so far, per event; the table gives each day."),
            completion_per_day(membership),
            label=day,
        ),
    ]
    link = OpenLink.objects.filter(study=membership.study).first()
    # The open link's flow and quotas count the whole study: a site-limited member sees
    # only their site's participants, so they get neither.
    if link is not None and membership.site_id is None:
        report = flow_report(membership.study)
        charts.append(
            bar_chart(
                "funnel",
                _("Recruitment funnel (open link)"),
                _("Visitors of the open link at each step, from the landing page to analysis."),
                [(str(stage.label), stage.count, None) for stage in report.stages],
                headers=[_("Step"), _("People")],
            )
        )
        quotas = quota_fill(link)
        if quotas:
            charts.append(
                bar_chart(
                    "quotas",
                    _("Quota fill"),
                    _("Enrolled participants in each quota cell against its limit."),
                    [(name, taken, limit) for name, taken, limit in quotas],
                    headers=[_("Quota"), _("Enrolled"), _("Limit")],
                )
            )
    return charts
