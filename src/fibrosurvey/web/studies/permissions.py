"""Who may do what in a study: roles -> capabilities, membership lookup, site filtering.

Rules every view follows:
- not logged in -> redirect to login (``login_required``);
- logged in but not a member of the study (or the study does not exist) -> 404, so nobody
  learns which study ids exist;
- a member whose role lacks the capability -> 403;
- a site-limited member sees only their site's participants (``filter_to_site``), and a
  participant outside their site is a 404.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from fibrosurvey.web.studies.models import Membership, Role

__all__ = [
    "CAPABILITIES",
    "filter_to_site",
    "get_membership",
    "require_membership",
    "role_can",
]

_ALL = frozenset(Role.values)
_OWNER = frozenset({Role.OWNER})
_ENROLLERS = frozenset({Role.OWNER, Role.COORDINATOR})
_ANALYSTS = frozenset({Role.OWNER, Role.ANALYST})

# capability -> roles that have it. Every view names exactly one capability.
CAPABILITIES: dict[str, frozenset[str]] = {
    "view_study": _ALL,  # study home, dashboard counts (no contact data, no answers)
    "view_dashboard": _ALL,
    "manage_study": _OWNER,  # settings, members, sites, events
    "view_audit": _OWNER,  # the study's audit trail
    "view_participants": _ENROLLERS,  # pseudonymous participant list and status
    "enrol": _ENROLLERS,  # enrol one or by CSV
    "invite": _ENROLLERS,  # send, re-send, revoke invitations
    "view_contact": _ENROLLERS,  # decrypted e-mail/phone/name (each view audited)
    "acknowledge_alert": _ENROLLERS,  # safety alerts
    "import_labs": _ENROLLERS,
    "view_labs": _ALL,
    "export_deidentified": _ANALYSTS,
    "run_analysis": _ANALYSTS,
    "view_analysis": _ALL,
}


def role_can(role: str, capability: str) -> bool:
    try:
        return role in CAPABILITIES[capability]
    except KeyError:
        raise ValueError(
            f"unknown capability {capability!r}; known: {', '.join(sorted(CAPABILITIES))}"
        ) from None


def get_membership(user: Any, study_id: int | str) -> Membership | None:
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


def require_membership(user: Any, study_id: int | str, capability: str) -> Membership:
    """The membership allowing ``capability``; Http404 for non-members, PermissionDenied
    (403) for members whose role lacks it. ``membership.study`` is the Study."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}")
    membership = get_membership(user, study_id)
    if membership is None:
        raise Http404("No such study")
    if not role_can(membership.role, capability):
        raise PermissionDenied(f"your role ({membership.role}) cannot {capability}")
    return membership


def filter_to_site(
    queryset: QuerySet[Any], membership: Membership, site_field: str = "site"
) -> QuerySet[Any]:
    """Restrict a queryset to the member's site when they are site-limited.

    ``site_field`` is the lookup from the queryset's model to Site, e.g. "site" for
    Participant, "participant__site" for Response/Invitation/SafetyAlert or a lab sample.
    """
    if membership.site_id is None:
        return queryset
    return queryset.filter(**{f"{site_field}_id": membership.site_id})
