"""Analysis pages: run the plan, follow the job, read the report, past runs."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from fibrosurvey.web.analyses import services
from fibrosurvey.web.analyses.forms import RunAnalysisForm
from fibrosurvey.web.analyses.models import AnalysisRun
from fibrosurvey.web.http import AuthenticatedHttpRequest
from fibrosurvey.web.studies.context import study_context
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import can, study_view


def _page(
    request: HttpRequest,
    membership: Membership,
    form: RunAnalysisForm,
    plan_error: str = "",
    status: int = 200,
) -> HttpResponse:
    runs = services.readable_runs(membership).select_related("requested_by")
    return render(
        request,
        "analyses/index.html",
        study_context(
            membership,
            form=form,
            plan_error=plan_error,
            runs=runs.defer("report_html", "results", "plan_text")[:50],
            can_run=can(membership, "run_analysis"),
            in_process=services.in_process(),
        ),
        status=status,
    )


@study_view("view_analysis")
def index(request: AuthenticatedHttpRequest, membership: Membership, study_id: int) -> HttpResponse:
    return _page(request, membership, RunAnalysisForm())


@study_view("run_analysis")
@require_POST
def run(request: AuthenticatedHttpRequest, membership: Membership, study_id: int) -> HttpResponse:
    form = RunAnalysisForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, membership, form, status=400)
    uploaded = form.cleaned_data["plan"]
    try:
        created = services.do_request_analysis(
            membership,
            actor=request.user,
            plan_text=uploaded[1] if uploaded else None,
            plan_name=uploaded[0] if uploaded else "",
            request=request,
        )
    except services.PlanError as error:
        return _page(request, membership, form, plan_error=str(error), status=400)
    messages.success(request, _("Analysis queued; this page updates when it is done."))
    return redirect("analyses:detail", study_id=study_id, run_id=created.pk)


def _run_of(membership: Membership, run_id: int) -> AnalysisRun:
    """A run the member may read: 404 for a run limited to another site (as for another
    site's participant); the 403 for roles that cannot request runs comes first."""
    return get_object_or_404(services.readable_runs(membership), pk=run_id)


@study_view("run_analysis")
def detail(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int, run_id: int
) -> HttpResponse:
    analysis = _run_of(membership, run_id)
    claims = (analysis.results or {}).get("claims", []) if analysis.status == "done" else []
    response = render(
        request,
        "analyses/detail.html",
        study_context(membership, run=analysis, claims=claims),
    )
    if analysis.status in (AnalysisRun.Status.QUEUED, AnalysisRun.Status.RUNNING):
        # Follow the job without script (the CSP allows none): the browser reloads the page.
        response["Refresh"] = "3"
    return response


@xframe_options_sameorigin
@study_view("run_analysis")
def report(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int, run_id: int
) -> HttpResponse:
    analysis = _run_of(membership, run_id)
    if analysis.status != AnalysisRun.Status.DONE:
        raise Http404("This run has no report (yet).")
    response = HttpResponse(analysis.report_html, content_type="text/html; charset=utf-8")
    # The report is self-contained; it needs no script, form or outside resource.
    response["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )
    return response
