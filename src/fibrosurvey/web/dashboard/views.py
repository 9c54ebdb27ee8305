"""Researcher dashboard: the user's studies, one study's progress, safety alerts."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fibrosurvey.web.dashboard import services
from fibrosurvey.web.http import AuthenticatedHttpRequest
from fibrosurvey.web.outbox.services import undelivered_emails
from fibrosurvey.web.studies.context import study_context
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import can, filter_to_site, study_view
from fibrosurvey.web.survey.models import SafetyAlert
from fibrosurvey.web.survey.services import do_acknowledge_alert


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
            alerts=services.open_safety_alerts(membership),
            undelivered=undelivered_emails(membership.study),
            labs=services.lab_sample_summary(membership),
            can_acknowledge=can(membership, "acknowledge_alert"),
        ),
    )


@study_view("acknowledge_alert")
@require_POST
def acknowledge_alert(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int, alert_id: int
) -> HttpResponse:
    alerts = filter_to_site(
        SafetyAlert.objects.filter(study=membership.study),
        membership,
        site_field="participant__site",
    )
    alert = get_object_or_404(alerts, pk=alert_id)
    if alert.acknowledged_at is not None:
        raise Http404("already acknowledged")
    do_acknowledge_alert(alert, actor=request.user, note=request.POST.get("note", "")[:2000])
    messages.success(request, _("Safety alert acknowledged."))
    return redirect("dashboard:study", study_id=membership.study.pk)
