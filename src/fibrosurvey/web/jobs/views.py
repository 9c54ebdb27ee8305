"""The progress page of a background job (refreshes itself until the job ends)."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from fibrosurvey.web.http import AuthenticatedHttpRequest
from fibrosurvey.web.jobs.models import Job
from fibrosurvey.web.studies.context import study_context
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import role_can, study_view

# The capability a member needs to follow each kind of job.
CAPABILITY: dict[str, str] = {Job.Kind.ENROL_CSV: "enrol"}


@never_cache
@study_view(CAPABILITY[Job.Kind.ENROL_CSV])
def detail(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int, job_id: int
) -> HttpResponse:
    job = Job.objects.filter(pk=job_id, study_id=study_id).first()
    if job is None or not role_can(membership.role, CAPABILITY[job.kind]):
        raise Http404("No such job")
    response = render(request, "jobs/detail.html", study_context(membership, job=job))
    if not job.finished:
        # Refresh: no script needed (the CSP allows none inline), every browser follows it.
        response["Refresh"] = "2"
    return response
