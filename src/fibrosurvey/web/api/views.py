"""Staff page: a member's own API tokens for a study (create, see once, revoke)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from fibrosurvey.web.api.models import ApiToken
from fibrosurvey.web.api.services import do_issue_token, do_revoke_token
from fibrosurvey.web.http import AuthenticatedHttpRequest
from fibrosurvey.web.studies.context import study_context
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import study_view


@never_cache
@study_view("view_study")
def tokens(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int
) -> HttpResponse:
    """Any member may hold tokens; a token can do exactly what its holder's role can."""
    new_token = ""
    if request.method == "POST":
        name = (request.POST.get("name") or "").strip()[:100]
        _row, new_token = do_issue_token(user=request.user, study=membership.study, name=name)
    rows = ApiToken.objects.filter(user=request.user, study=membership.study)
    return render(
        request,
        "api/tokens.html",
        study_context(membership, tokens=rows, new_token=new_token),
    )


@study_view("view_study")
@require_POST
def revoke(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int, token_id: int
) -> HttpResponse:
    row = get_object_or_404(ApiToken, pk=token_id, user=request.user, study=membership.study)
    do_revoke_token(row, actor=request.user)
    messages.success(request, _("Token revoked."))
    return redirect("api_tokens:tokens", study_id=study_id)
