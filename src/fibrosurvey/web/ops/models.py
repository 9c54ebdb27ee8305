"""Per-study security policy (kept beside the Study so the studies app needs no migration)."""

from __future__ import annotations

from django.db import models

__all__ = ["StudySecurity"]


class StudySecurity(models.Model):
    """``require_two_factor``: every member must log in with a confirmed TOTP device."""

    study = models.OneToOneField(
        "studies.Study", primary_key=True, on_delete=models.CASCADE, related_name="security"
    )
    require_two_factor = models.BooleanField(default=False)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"security policy of study {self.study_id}"
