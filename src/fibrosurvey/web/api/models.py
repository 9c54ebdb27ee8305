"""API tokens: one per user and study, shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone

from fibrosurvey.web.crypto import hash_token
from fibrosurvey.web.studies.models import Study

__all__ = ["TOKEN_PREFIX", "ApiToken"]

TOKEN_PREFIX = "fs_"


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    # First characters of the token, to tell tokens apart in lists (not enough to use it).
    hint = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"API token {self.hint}… of {self.user_id} for study {self.study_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def issue(cls, *, user: User, study: Study, name: str = "") -> tuple[ApiToken, str]:
        """Create a token; returns (row, the secret token shown once)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = cls.objects.create(
            user=user,
            study=study,
            name=name[:100],
            token_hash=hash_token(token),
            hint=token[:10],
        )
        return row, token

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
