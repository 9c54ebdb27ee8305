"""Template context shared by every staff page of a study."""

from __future__ import annotations

from typing import Any

from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import CAPABILITIES, role_can

__all__ = ["study_context"]


def study_context(membership: Membership, **extra: Any) -> dict[str, Any]:
    """``study``, ``membership`` and ``perms_in_study`` (capability -> bool) for base.html."""
    return {
        "study": membership.study,
        "membership": membership,
        "perms_in_study": {cap: role_can(membership.role, cap) for cap in CAPABILITIES},
        **extra,
    }
