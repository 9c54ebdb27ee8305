"""Lab pages: samples received (with flags) and the CSV import."""

from __future__ import annotations

import polars as pl
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from fibrosurvey.biomarkers import ANALYTES, LAB_REQUIRED_COLUMNS, MATRICES
from fibrosurvey.web.exports.writers import csv_bytes
from fibrosurvey.web.labs import services
from fibrosurvey.web.labs.dashboard import flagged_samples, lab_sample_summary
from fibrosurvey.web.labs.forms import LabImportForm
from fibrosurvey.web.labs.models import LabImport, LabSample
from fibrosurvey.web.studies.context import study_context
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import require_membership

_PAGE = 200
ANALYTE_LABELS = {"aea": "AEA", "twoag": "2-AG", "pea": "PEA", "oea": "OEA", "sea": "SEA"}


def import_history(membership: Membership) -> QuerySet[LabImport]:
    """The study's lab imports as ``membership`` may see them: a site-limited member sees
    only files with samples of their site, counted for their site only (``site_samples``,
    ``site_results``); a file's other sites stay invisible."""
    imports = membership.study.lab_imports.select_related("imported_by")
    if membership.site_id is None:
        return imports
    own = Q(samples__participant__site_id=membership.site_id)
    return imports.filter(
        Exists(
            LabSample.objects.filter(
                lab_import=OuterRef("pk"), participant__site_id=membership.site_id
            )
        )
    ).annotate(
        site_samples=Count("samples", filter=own, distinct=True),
        site_results=Count("samples__results", filter=own, distinct=True),
    )


@login_required
def sample_list(request: HttpRequest, study_id: int) -> HttpResponse:
    membership = require_membership(request.user, study_id, "view_labs")
    study = membership.study
    samples = (
        flagged_samples(study, membership)
        .select_related("participant", "participant__site", "event")
        .prefetch_related("results")
        .order_by("-received_at", "participant__study_code")
    )
    shown = list(samples[:_PAGE])
    for sample in shown:
        by_analyte = {r.analyte: r for r in sample.results.all()}
        sample.by_analyte = [by_analyte.get(analyte) for analyte in ANALYTES]
    return render(
        request,
        "labs/samples.html",
        study_context(
            membership,
            summary=lab_sample_summary(study, membership),
            samples=shown,
            analyte_labels=ANALYTE_LABELS,
            page_size=_PAGE,
            imports=import_history(membership)[:10],
            site_limited=membership.site_id is not None,
            can_import=membership.can("import_labs"),
        ),
    )


@login_required
def import_labs(request: HttpRequest, study_id: int) -> HttpResponse:
    membership = require_membership(request.user, study_id, "import_labs")
    study = membership.study
    form = LabImportForm(request.POST or None, request.FILES or None)
    problems: list[services.RowProblem] = []
    if request.method == "POST" and form.is_valid():
        try:
            result = services.do_import_labs(
                study,
                form.cleaned_data["file"],
                actor=request.user,
                membership=membership,
                file_name=request.FILES["file"].name,
                request=request,
            )
        except services.LabImportError as error:
            problems = error.problems
        else:
            messages.success(
                request,
                _("Imported %(results)d results in %(samples)d new samples.")
                % {"results": result.results_created, "samples": result.samples_created},
            )
            return redirect("labs:samples", study_id=study.pk)
    return render(
        request,
        "labs/import.html",
        study_context(
            membership,
            form=form,
            problems=problems,
            required=LAB_REQUIRED_COLUMNS,
            optional=services.LAB_COLUMNS[len(LAB_REQUIRED_COLUMNS) :],
            matrices=MATRICES,
            events=[e.code for e in study.events.all()],
        ),
        status=422 if problems or form.errors else 200,
    )


@login_required
def template_csv(request: HttpRequest, study_id: int) -> HttpResponse:
    """An empty lab file with every column, to fill in."""
    require_membership(request.user, study_id, "import_labs")
    header = pl.DataFrame(schema=dict.fromkeys(services.LAB_COLUMNS, pl.String))
    response = HttpResponse(csv_bytes(header), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="lab-results-template.csv"'
    return response
