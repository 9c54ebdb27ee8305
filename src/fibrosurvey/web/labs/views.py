"""Lab pages: samples received (with flags) and the CSV import."""

from __future__ import annotations

import io

import polars as pl
from django.contrib import messages
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from fibrosurvey.biomarkers import (
    ANALYTE_NAMES,
    ANALYTES,
    LAB_REQUIRED_COLUMNS,
    MATRICES,
    lab_guide_rows,
    lab_template_csv,
)
from fibrosurvey.problems import Problem
from fibrosurvey.web.exports.writers import csv_bytes
from fibrosurvey.web.labs import services
from fibrosurvey.web.labs.dashboard import flagged_samples, lab_sample_summary
from fibrosurvey.web.labs.forms import LabImportForm
from fibrosurvey.web.labs.models import LabImport, LabSample
from fibrosurvey.web.studies.context import study_context
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import can, study_view

_PAGE = 200
# Column headings of the samples table: the abbreviation of each analyte's name.
ANALYTE_LABELS = {code: name.split(" ")[0] for code, name in ANALYTE_NAMES.items()}


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


@study_view("view_labs")
def sample_list(request: HttpRequest, membership: Membership, study_id: int) -> HttpResponse:
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
            can_import=can(membership, "import_labs"),
        ),
    )


@study_view("import_labs")
def import_labs(request: HttpRequest, membership: Membership, study_id: int) -> HttpResponse:
    study = membership.study
    form = LabImportForm(request.POST or None, request.FILES or None)
    problems: list[Problem] = []
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
            guide=lab_guide_rows(),
            events=[e.code for e in study.events.all()],
        ),
        status=422 if problems or form.errors else 200,
    )


@study_view("import_labs")
def template_csv(request: HttpRequest, membership: Membership, study_id: int) -> HttpResponse:
    """The lab file template: every column, and example rows of one sample to overwrite
    (written by the platform's one CSV writer, like every CSV it serves)."""
    template = pl.read_csv(io.StringIO(lab_template_csv()), infer_schema=False)
    response = HttpResponse(csv_bytes(template), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="lab-results-template.csv"'
    return response
