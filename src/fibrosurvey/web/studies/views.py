"""Study set-up views: create from a template, members, the audit trail."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.studies.context import study_context
from fibrosurvey.web.studies.forms import AddMemberForm, CreateStudyForm
from fibrosurvey.web.studies.permissions import require_membership
from fibrosurvey.web.studies.services import do_add_member, do_create_study_from_template


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    form = CreateStudyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        study = do_create_study_from_template(
            name=form.cleaned_data["name"],
            owner=request.user,
            template=form.cleaned_data["template"],
            sites=form.cleaned_data["sites"],
        )
        messages.success(request, _("Study created."))
        return redirect("dashboard:study", study_id=study.pk)
    return render(request, "studies/create.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, study_id: int) -> HttpResponse:
    membership = require_membership(request.user, study_id, "manage_study")
    study = membership.study
    form = AddMemberForm(study, request.POST or None)
    if request.method == "POST" and form.is_valid():
        do_add_member(
            study,
            user=form.cleaned_data["username"],
            role=form.cleaned_data["role"],
            site=form.cleaned_data["site"],
            actor=request.user,
        )
        messages.success(request, _("Member added."))
        return redirect("studies:members", study_id=study.pk)
    return render(
        request,
        "studies/members.html",
        study_context(
            membership,
            form=form,
            members=study.memberships.select_related("user", "site").order_by("user__username"),
            events=study.events.prefetch_related("battery"),
            instruments=study.instruments.all(),
        ),
    )


@login_required
def audit(request: HttpRequest, study_id: int) -> HttpResponse:
    membership = require_membership(request.user, study_id, "view_audit")
    records = AuditRecord.objects.filter(study=membership.study).select_related("actor")
    action = request.GET.get("action", "")
    if action in AuditRecord.Action.values:
        records = records.filter(action=action)
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "studies/audit.html",
        study_context(
            membership,
            page=page,
            action=action,
            actions=AuditRecord.Action.values,
        ),
    )
