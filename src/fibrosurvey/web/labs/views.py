"""Lab pages: samples received (with flags), the CSV import, and correcting one result."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from fibrosurvey.biomarkers import (
    ANALYTE_NAMES,
    ANALYTES,
    LAB_REQUIRED_COLUMNS,
    MATRICES,
    lab_guide_rows,
    lab_template_frame,
)
from fibrosurvey.problems import Problem
from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.exports.writers import csv_bytes
from fibrosurvey.web.http import AuthenticatedHttpRequest, uploaded_file_name
from fibrosurvey.web.labs import correction_import, corrections, services
from fibrosurvey.web.labs.csv_reading import LAB_COLUMNS, LabImportError
from fibrosurvey.web.labs.dashboard import flagged_samples, lab_sample_summary
from fibrosurvey.web.labs.forms import LabImportForm, ResultCorrectionForm
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
def sample_list(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int
) -> HttpResponse:
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
def import_labs(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int
) -> HttpResponse:
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
                file_name=uploaded_file_name(request, "file"),
                request=request,
            )
        except LabImportError as error:
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
            optional=LAB_COLUMNS[len(LAB_REQUIRED_COLUMNS) :],
            matrices=MATRICES,
            guide=lab_guide_rows(),
            events=[e.code for e in study.events.all()],
        ),
        status=422 if problems or form.errors else 200,
    )


@study_view("import_labs")
def template_csv(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int
) -> HttpResponse:
    """The lab file template: every column, and example rows of one sample to overwrite
    (written by the platform's one CSV writer, like every CSV it serves)."""
    response = HttpResponse(csv_bytes(lab_template_frame()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="lab-results-template.csv"'
    return response


@study_view("import_labs")
def import_corrections(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int
) -> HttpResponse:
    """A lab's corrections file: each row corrects or retracts one result, all or nothing."""
    study = membership.study
    form = LabImportForm(request.POST or None, request.FILES or None)
    problems: list[Problem] = []
    if request.method == "POST" and form.is_valid():
        try:
            result = correction_import.do_import_lab_corrections(
                study,
                form.cleaned_data["file"],
                actor=request.user,
                membership=membership,
                file_name=uploaded_file_name(request, "file"),
                request=request,
            )
        except LabImportError as error:
            problems = error.problems
        else:
            messages.success(
                request,
                _("Corrected %(corrected)d results and retracted %(retracted)d.")
                % {"corrected": result.corrected, "retracted": result.retracted},
            )
            return redirect("labs:samples", study_id=study.pk)
    return render(
        request,
        "labs/import_corrections.html",
        study_context(
            membership,
            form=form,
            problems=problems,
            columns=correction_import.CORRECTION_COLUMNS,
        ),
        status=422 if problems or form.errors else 200,
    )


@never_cache
@study_view("import_labs")
def correct_result(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int, result_id: int
) -> HttpResponse:
    """One result: its history, and a form to correct or retract it (reason required)."""
    result = corrections.visible_result(membership, result_id)
    form = ResultCorrectionForm(request.POST or None)
    problem: corrections.LabCorrectionError | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["action"] == "retract":
                corrections.do_retract_result(
                    result, reason=data["reason"], actor=request.user, request=request
                )
                done = _("Result retracted; it is left out of every analysis.")
            else:
                corrections.do_correct_result(
                    result,
                    value=data["value"],
                    unit=data["unit"],
                    reason=data["reason"],
                    actor=request.user,
                    request=request,
                )
                done = _("Result corrected; the old value is kept in the audit trail.")
        except corrections.LabCorrectionError as error:
            problem = error
        else:
            messages.success(request, done)
            return redirect("labs:correct_result", study_id=study_id, result_id=result.pk)
    history = AuditRecord.objects.filter(
        study_id=membership.study.pk, object_type="labs.labresult", object_id=str(result.pk)
    ).order_by("at", "pk")
    return render(
        request,
        "labs/correct_result.html",
        study_context(
            membership,
            result=result,
            analyte_name=ANALYTE_NAMES[result.analyte],
            form=form,
            problem=problem,
            history=history,
            retracted=result.status == result.Status.RETRACTED,
        ),
        status=422 if problem or form.errors else 200,
    )
