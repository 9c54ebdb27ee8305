"""Export pages: what is exported and how it is de-identified, and the downloads."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from fibrosurvey.web.exports.dataset import MAX_SHIFT_DAYS, DatasetBuilder
from fibrosurvey.web.exports.services import FORMATS, ExportRequest, do_export
from fibrosurvey.web.http import AuthenticatedHttpRequest
from fibrosurvey.web.studies.context import study_context
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import study_view


@study_view("export_deidentified")
def index(request: AuthenticatedHttpRequest, membership: Membership, study_id: int) -> HttpResponse:
    builder = DatasetBuilder(membership.study, membership)
    return render(
        request,
        "exports/index.html",
        study_context(
            membership,
            rows=builder.count_rows(),
            n_columns=len(builder.columns),
            instruments=[i.id for i in builder.instruments],
            max_shift=MAX_SHIFT_DAYS,
        ),
    )


@study_view("export_deidentified")
def download(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int, export_format: str
) -> HttpResponseBase:
    if export_format not in FORMATS:
        raise Http404("No such export format")
    return do_export(ExportRequest(membership, request.user, export_format, request))
