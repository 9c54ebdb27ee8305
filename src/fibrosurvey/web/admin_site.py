"""Django admin is for superusers only (staff flag alone is not enough)."""

from __future__ import annotations

from typing import Any


def restrict_admin_to_superusers(site: Any) -> None:
    def has_permission(request: Any) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    site.has_permission = has_permission
    site.site_header = "fibrosurvey administration"
