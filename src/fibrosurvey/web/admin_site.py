"""Django admin is for superusers only (staff flag alone is not enough)."""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.http import HttpRequest


def restrict_admin_to_superusers(site: AdminSite) -> None:
    def has_permission(request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    # Patched on the default site so every app's admin.register(...) keeps working.
    site.has_permission = has_permission  # type: ignore[method-assign]
    site.site_header = "fibrosurvey administration"
