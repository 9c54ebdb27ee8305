"""Study set-up views: create from a template, members (add, change, remove), the
two-factor policy. (The audit trail page is in the dashboard app.)"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fibrosurvey.web.accounts.services import do_set_two_factor_policy
from fibrosurvey.web.http import AuthenticatedHttpRequest
from fibrosurvey.web.ops.models import StudySecurity
from fibrosurvey.web.studies.context import study_context
from fibrosurvey.web.studies.forms import (
    AddMemberForm,
    ChangeMemberForm,
    CreateStudyForm,
    TwoFactorPolicyForm,
)
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import study_view
from fibrosurvey.web.studies.roles import Role
from fibrosurvey.web.studies.services import (
    MembershipError,
    do_add_member,
    do_change_member,
    do_create_study_from_template,
    do_remove_member,
)


@login_required
@require_http_methods(["GET", "POST"])
def create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = CreateStudyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        study = do_create_study_from_template(
            name=form.cleaned_data["name"],
            owner=request.user,
            template=form.cleaned_data["template"],
            sites=form.cleaned_data["sites"],
            country=form.cleaned_data["country"],
        )
        messages.success(request, _("Study created."))
        return redirect("dashboard:study", study_id=study.pk)
    return render(request, "studies/create.html", {"form": form})


@study_view("manage_study")
@require_http_methods(["GET", "POST"])
def members(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int
) -> HttpResponse:
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
            members=_members_of(membership),
            events=study.events.prefetch_related("battery"),
            instruments=study.instruments.all(),
        ),
    )


def _members_of(membership: Membership) -> QuerySet[Membership]:
    return membership.study.memberships.select_related("user", "site").order_by("user__username")


@study_view("manage_study")
@require_http_methods(["GET", "POST"])
def change_member(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int, member_id: int
) -> HttpResponse:
    """Change a member's role or site limit: the form is the confirmation step."""
    member = get_object_or_404(_members_of(membership), pk=member_id)
    initial = {"role": member.role, "site": member.site_id}
    form = ChangeMemberForm(membership.study, request.POST or None, initial=initial)
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            do_change_member(
                member,
                role=form.cleaned_data["role"],
                site=form.cleaned_data["site"],
                actor=request.user,
            )
        except MembershipError as error:
            problem = str(error)
        else:
            messages.success(request, _("Member changed."))
            return _after_member_change(request, membership)
    return render(
        request,
        "studies/member_change.html",
        study_context(membership, member=member, form=form, problem=problem),
        status=409 if problem else (422 if form.errors else 200),
    )


@study_view("manage_study")
@require_http_methods(["GET", "POST"])
def remove_member(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int, member_id: int
) -> HttpResponse:
    """GET asks for confirmation; POST removes the member (and revokes their API tokens)."""
    member = get_object_or_404(_members_of(membership), pk=member_id)
    problem = ""
    if request.method == "POST":
        try:
            do_remove_member(member, actor=request.user)
        except MembershipError as error:
            problem = str(error)
        else:
            messages.success(request, _("%(user)s removed.") % {"user": member.user.get_username()})
            return _after_member_change(request, membership)
    return render(
        request,
        "studies/member_remove.html",
        study_context(membership, member=member, problem=problem),
        status=409 if problem else 200,
    )


def _after_member_change(request: HttpRequest, membership: Membership) -> HttpResponse:
    # An owner who removed or demoted themselves can no longer open the members page.
    if Membership.objects.filter(pk=membership.pk, role=Role.OWNER).exists():
        return redirect("studies:members", study_id=membership.study_id)
    return redirect("dashboard:home")


@study_view("manage_study")
@require_http_methods(["GET", "POST"])
def security(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int
) -> HttpResponse:
    """The study's two-factor policy."""
    policy = StudySecurity.objects.filter(study=membership.study).first()
    required = policy is not None and policy.require_two_factor
    data = request.POST if request.method == "POST" else None
    form = TwoFactorPolicyForm(data, initial={"require_two_factor": required})
    if request.method == "POST" and form.is_valid():
        do_set_two_factor_policy(
            membership.study,
            require_two_factor=form.cleaned_data["require_two_factor"],
            actor=request.user,
            request=request,
        )
        messages.success(request, _("Security policy saved."))
        return redirect("studies:security", study_id=membership.study_id)
    return render(
        request, "studies/security.html", study_context(membership, form=form, required=required)
    )
