"""Researcher dashboard: the user's studies, one study's progress, safety alerts."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fibrosurvey.web.audit.services import record
from fibrosurvey.web.dashboard import services
from fibrosurvey.web.dashboard.audit_trail import (
    AuditFilterForm,
    changes,
    filtered_records,
    trail_frame,
)
from fibrosurvey.web.dashboard.forms import AlertCaseForm
from fibrosurvey.web.dashboard.pictures import dashboard_charts
from fibrosurvey.web.exports.writers import csv_bytes
from fibrosurvey.web.http import AuthenticatedHttpRequest
from fibrosurvey.web.outbox.services import undelivered_emails
from fibrosurvey.web.studies.context import study_context
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import can, filter_to_site, study_view
from fibrosurvey.web.survey.alerts import alert_answer, do_update_alert_case
from fibrosurvey.web.survey.models import SafetyAlert


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    memberships = Membership.objects.filter(user=request.user).select_related("study", "site")
    return render(request, "dashboard/home.html", {"memberships": memberships})


@study_view("view_dashboard")
def study(request: AuthenticatedHttpRequest, membership: Membership, study_id: int) -> HttpResponse:
    return render(
        request,
        "dashboard/study.html",
        study_context(
            membership,
            progress=services.study_progress(membership),
            mismatches=services.version_mismatches(membership),
            instruments=services.instrument_completion(membership),
            translations=services.instrument_translations(membership),
            study_languages=[
                (code, dict(settings.LANGUAGES).get(code, code))
                for code in membership.study.languages
            ],
            alerts=[
                (alert, alert_answer(alert, get_language() or "en"))
                for alert in services.open_safety_alerts(membership)
            ],
            undelivered=undelivered_emails(membership.study),
            labs=services.lab_sample_summary(membership),
            charts=dashboard_charts(membership),
            can_acknowledge=can(membership, "acknowledge_alert"),
        ),
    )


@study_view("view_audit")
def audit_trail(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int
) -> HttpResponse:
    """Who did what, when: filtered, paged, only the changed fields; ``?download=csv`` gives
    the filtered records as CSV (the platform's one CSV writer; the download is audited)."""
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    records = filtered_records(membership.study, filters)
    query = urlencode({k: v for k, v in request.GET.items() if k in form.fields and v}, doseq=False)
    if request.GET.get("download") == "csv":
        frame = trail_frame(records)
        record(
            "export",
            actor=request.user,
            study=membership.study,
            object_type="audit.auditrecord",
            after={"rows": frame.height, "filters": {k: str(v) for k, v in filters.items() if v}},
            request=request,
        )
        response = HttpResponse(csv_bytes(frame), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="audit-trail-study-{membership.study_id}.csv"'
        )
        return response
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/audit.html",
        study_context(
            membership,
            form=form,
            page=page,
            rows=[(r, changes(r)) for r in page],
            query=query,
        ),
        status=400 if form.errors else 200,
    )


def _visible_alerts(membership: Membership) -> QuerySet[SafetyAlert]:
    return filter_to_site(
        SafetyAlert.objects.filter(study=membership.study),
        membership,
        site_field="participant__site",
    ).select_related("participant", "participant__site", "event")


@study_view("acknowledge_alert")
def alert_list(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int
) -> HttpResponse:
    """Every safety case of the member's sites, those still open first."""
    status = request.GET.get("status", "")
    alerts = _visible_alerts(membership)
    if status in SafetyAlert.Status.values:
        alerts = alerts.filter(status=status)
    order = Case(
        *(When(status=value, then=Value(rank)) for rank, value in enumerate(SafetyAlert.Status)),
        output_field=IntegerField(),
    )
    page = Paginator(alerts.order_by(order, "-created_at"), 50).get_page(request.GET.get("page"))
    language = get_language() or "en"
    return render(
        request,
        "dashboard/alerts.html",
        study_context(
            membership,
            page=page,
            rows=[(alert, alert_answer(alert, language)) for alert in page],
            status=status,
            statuses=SafetyAlert.Status.choices,
        ),
    )


@study_view("acknowledge_alert")
@require_http_methods(["GET", "POST"])
def alert_case(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int, alert_id: int
) -> HttpResponse:
    """One safety case: the answer in words, the participant, the study's safety contact,
    the history; POST adds a note and/or moves the case on."""
    alert = get_object_or_404(_visible_alerts(membership), pk=alert_id)
    form = AlertCaseForm(alert, request.POST or None)
    if request.method == "POST" and form.is_valid():
        do_update_alert_case(
            alert,
            actor=request.user,
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"].strip(),
            request=request,
        )
        messages.success(request, _("Safety case updated."))
        return redirect("dashboard:alert_case", study_id=study_id, alert_id=alert.pk)
    language = get_language() or "en"
    study = membership.study
    return render(
        request,
        "dashboard/alert_case.html",
        study_context(
            membership,
            alert=alert,
            answer=alert_answer(alert, language),
            history=alert.notes.select_related("author"),
            safety_contact=study.safety_contact.get(language) or study.safety_contact.get("en", ""),
            can_view_contact=can(membership, "view_contact"),
            form=form,
        ),
        status=400 if form.errors else 200,
    )
