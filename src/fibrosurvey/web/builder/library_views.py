"""The study's instrument library: upload -> preview -> save, and each version with its diff."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from fibrosurvey.instruments import DefinitionError
from fibrosurvey.instruments.versions import changes_between
from fibrosurvey.web.builder.active import parsed, version_history
from fibrosurvey.web.builder.library import (
    ImportPreview,
    do_import_instrument,
    do_save_instruments,
    preview_of_saved_form,
)
from fibrosurvey.web.builder.library_forms import UploadInstrumentForm
from fibrosurvey.web.http import AuthenticatedHttpRequest
from fibrosurvey.web.http import posted_data as _posted
from fibrosurvey.web.studies.context import study_context
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import study_view
from fibrosurvey.web.survey.models import Response


@study_view("manage_study")
@require_http_methods(["GET", "POST"])
def index(request: AuthenticatedHttpRequest, membership: Membership, study_id: int) -> HttpResponse:
    """The library, and the upload form; a valid upload answers with its preview."""
    study = membership.study
    form = UploadInstrumentForm(
        _posted(request), request.FILES if request.method == "POST" else None
    )
    if request.method == "POST" and form.is_valid():
        preview = do_import_instrument(
            study, form.cleaned_data["source_kind"], form.cleaned_data["upload"], request.user
        )
        return _preview(request, membership, preview)
    history = version_history(study.pk)
    used = set(
        Response.objects.filter(participant__study=study)
        .values_list("instrument_id", "instrument_version")
        .distinct()
    )
    rows = [
        {
            "instrument_id": instrument_id,
            "title": parsed(versions[-1]).title.get("en", instrument_id),
            "versions": [
                {"row": v, "in_use": (instrument_id, v.version) in used} for v in reversed(versions)
            ],
        }
        for instrument_id, versions in history.items()
    ]
    return render(
        request,
        "builder/index.html",
        study_context(membership, form=form, rows=rows),
        status=422 if form.errors else 200,
    )


def _preview(
    request: AuthenticatedHttpRequest, membership: Membership, preview: ImportPreview
) -> HttpResponse:
    return render(
        request,
        "builder/preview.html",
        study_context(
            membership,
            preview=preview,
            refusals_json=json.dumps([r.as_dict() for r in preview.refusals]),
        ),
        status=200 if preview.ok else 422,
    )


@study_view("manage_study")
@require_POST
def save(request: AuthenticatedHttpRequest, membership: Membership, study_id: int) -> HttpResponse:
    try:
        refusals = json.loads(request.POST.get("refusals") or "[]")
    except json.JSONDecodeError:
        refusals = []
    preview = preview_of_saved_form(
        membership.study,
        request.POST.get("source_kind", ""),
        request.POST.get("source_name", ""),
        request.POST.getlist("definition"),
        refusals,
    )
    try:
        saved = do_save_instruments(membership.study, preview, request.user)
    except DefinitionError:
        return _preview(request, membership, preview)
    messages.success(
        request,
        _("Saved: %(versions)s.")
        % {"versions": ", ".join(f"{v.instrument_id} {v.version}" for v in saved)},
    )
    return redirect("builder:instruments", study_id=study_id)


@study_view("manage_study")
def version(
    request: AuthenticatedHttpRequest,
    membership: Membership,
    study_id: int,
    instrument_id: str,
    number: int,
) -> HttpResponse:
    """One version's items and logic, and its diff against the version before it."""
    versions = version_history(membership.study_id).get(instrument_id, [])
    found = [v for v in versions if v.number == number]
    if not found:
        return render(request, "builder/missing.html", study_context(membership), status=404)
    row = found[0]
    earlier = [v for v in versions if v.number < number]
    instrument = parsed(row)
    changes = changes_between(parsed(earlier[-1]), instrument) if earlier else []
    return render(
        request,
        "builder/version.html",
        study_context(
            membership,
            row=row,
            instrument=instrument,
            previous=earlier[-1] if earlier else None,
            changes=changes,
        ),
    )
