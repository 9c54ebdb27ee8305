"""Who may do what in a study: every access rule of the platform lives in this module.

Rules every page and API endpoint follows:
- not logged in -> redirect to login (pages, through ``study_view``); no usable API token
  -> 401 (the API's ``TokenAuth``);
- logged in but not a member of the study (or the study does not exist), or an API token
  issued for another study -> 404, so nobody learns which study ids exist;
- a member whose role lacks the capability -> 403;
- a site-limited member sees only their site: its participants (``filter_to_site``), its
  sites (``visible_sites``, ``allowed_site_codes``); a participant elsewhere is a 404;
- safety alerts are e-mailed to the members with ``receive_safety_alerts`` who see the
  participant's site (``safety_alert_recipients``), plus the study's safety address.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

from fibrosurvey.web.studies.models import Membership, Site, Study
from fibrosurvey.web.studies.roles import Role

if TYPE_CHECKING:
    from fibrosurvey.web.api.models import ApiToken

__all__ = [
    "CAPABILITIES",
    "add_study_request_context",
    "allowed_site_codes",
    "can",
    "filter_to_site",
    "get_membership",
    "require_membership",
    "require_token_membership",
    "role_can",
    "safety_alert_recipients",
    "study_view",
    "visible_sites",
]

_M = TypeVar("_M", bound=Model)

_ALL = frozenset(Role.values)
_OWNER = frozenset({Role.OWNER})
_ENROLLERS = frozenset({Role.OWNER, Role.COORDINATOR})
_ANALYSTS = frozenset({Role.OWNER, Role.ANALYST})
_READERS = frozenset({Role.OWNER, Role.COORDINATOR, Role.ANALYST})

# capability -> roles that have it. Every view names exactly one capability.
CAPABILITIES: dict[str, frozenset[str]] = {
    "view_study": _ALL,  # study home, dashboard counts (no contact data, no answers)
    "view_dashboard": _ALL,
    "manage_study": _OWNER,  # settings, members, sites, events, security policy
    "view_audit": _OWNER,  # the study's audit trail
    "view_participants": _ENROLLERS,  # pseudonymous participant list and status
    "enrol": _ENROLLERS,  # enrol one or by CSV
    "invite": _ENROLLERS,  # send, re-send, revoke invitations
    "view_contact": _ENROLLERS,  # decrypted e-mail/phone/name (each view audited)
    "acknowledge_alert": _ENROLLERS,  # safety alerts
    "receive_safety_alerts": _ENROLLERS,  # the PHQ-9 item 9 e-mail (their sites only)
    "enter_data": _ENROLLERS,  # enter or correct answers for a participant (paper form)
    "read_responses": _READERS,  # stored answers through the API (their sites only)
    "import_labs": _ENROLLERS,
    "view_labs": _ALL,
    "export_deidentified": _ANALYSTS,
    "run_analysis": _ANALYSTS,
    "view_analysis": _ALL,
}


def _known(capability: str) -> str:
    if capability not in CAPABILITIES:
        raise ValueError(
            f"unknown capability {capability!r}; known: {', '.join(sorted(CAPABILITIES))}"
        )
    return capability


def role_can(role: str, capability: str) -> bool:
    return role in CAPABILITIES[_known(capability)]


def can(membership: Membership, capability: str) -> bool:
    return role_can(membership.role, capability)


def get_membership(user: User | AnonymousUser | None, study_id: int | str) -> Membership | None:
    """The user's membership in the study, or None (also for anonymous users)."""
    if user is None or not user.is_authenticated:
        return None
    try:
        study_id = int(study_id)
    except (TypeError, ValueError):
        return None
    return (
        Membership.objects.select_related("study", "site", "user")
        .filter(user=user, study_id=study_id)
        .first()
    )


def require_membership(
    user: User | AnonymousUser | None, study_id: int | str, capability: str
) -> Membership:
    """The membership allowing ``capability``; Http404 for non-members, PermissionDenied
    (403) for members whose role lacks it. ``membership.study`` is the Study."""
    _known(capability)
    membership = get_membership(user, study_id)
    if membership is None:
        raise Http404("No such study")
    if not can(membership, capability):
        raise PermissionDenied(f"your role ({membership.role}) cannot {capability}")
    return membership


def require_token_membership(token: ApiToken, study_id: int, capability: str) -> Membership:
    """The API's rule: a token reaches only its own study, with its holder's current role."""
    if token.study_id != study_id:
        raise Http404("No such study")
    return require_membership(token.user, study_id, capability)


StudyView = Callable[..., HttpResponseBase]

# What every staff page of a study runs inside, given the study id: apps above this layer
# add theirs in AppConfig.ready() (the builder: the study's own instruments for the core).
_STUDY_REQUEST_CONTEXTS: list[Callable[[int], AbstractContextManager[None]]] = []


def add_study_request_context(context: Callable[[int], AbstractContextManager[None]]) -> None:
    if context not in _STUDY_REQUEST_CONTEXTS:
        _STUDY_REQUEST_CONTEXTS.append(context)


def study_view(capability: str) -> Callable[[StudyView], StudyView]:
    """Decorate a staff page of one study (URL argument ``study_id``).

    Anonymous -> login redirect; non-member -> 404; role without ``capability`` -> 403.
    The view is called as ``view(request, membership, study_id=..., **other_url_args)``.
    """
    _known(capability)

    def decorate(view: StudyView) -> StudyView:
        @functools.wraps(view)
        def checked(
            request: HttpRequest, *args: Any, study_id: int, **kwargs: Any
        ) -> HttpResponseBase:
            membership = require_membership(request.user, study_id, capability)
            with ExitStack() as stack:
                for context in _STUDY_REQUEST_CONTEXTS:
                    stack.enter_context(context(membership.study_id))
                return view(request, membership, *args, study_id=study_id, **kwargs)

        # Read by the access-matrix test's URLconf walk; functions take attributes at runtime.
        checked.capability = capability  # type: ignore[attr-defined]
        return login_required(checked)

    return decorate


def filter_to_site(
    queryset: QuerySet[_M], membership: Membership, site_field: str = "site"
) -> QuerySet[_M]:
    """Restrict a queryset to the member's site when they are site-limited.

    ``site_field`` is the lookup from the queryset's model to Site, e.g. "site" for
    Participant, "participant__site" for Response/Invitation/SafetyAlert or a lab sample.
    """
    if membership.site_id is None:
        return queryset
    return queryset.filter(**{f"{site_field}_id": membership.site_id})


def visible_sites(membership: Membership) -> QuerySet[Site]:
    """The study's sites this member sees (and may enrol at): one if site-limited."""
    sites = membership.study.sites.all()
    return sites if membership.site_id is None else sites.filter(pk=membership.site_id)


def allowed_site_codes(membership: Membership) -> set[str] | None:
    """Site codes a site-limited member may act on; None = every site of the study."""
    if membership.site is None:
        return None
    return {membership.site.code}


def safety_alert_recipients(study: Study, site_id: int) -> list[str]:
    """E-mail addresses for a safety alert about a participant of ``site_id``: members with
    ``receive_safety_alerts`` who see that site, and the study's own safety address."""
    roles = CAPABILITIES["receive_safety_alerts"]
    members = Membership.objects.filter(study=study, role__in=roles).select_related("user")
    addresses = {
        m.user.email
        for m in members
        if m.user.email and m.user.is_active and m.site_id in (None, site_id)
    }
    if study.safety_email:
        addresses.add(study.safety_email)
    return sorted(addresses)
