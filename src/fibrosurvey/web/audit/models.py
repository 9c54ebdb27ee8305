"""The audit trail: who did what to which object, when, with before/after values."""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ["AuditRecord"]


class AuditRecord(models.Model):
    class Action(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"
        EXPORT = "export"
        VIEW_CONTACT = "view_contact"
        LOGIN = "login"
        LOGIN_FAILED = "login_failed"
        LOGOUT = "logout"
        CONSENT = "consent"
        INVITE = "invite"
        REVOKE = "revoke"
        ACKNOWLEDGE = "acknowledge"
        IMPORT = "import"
        ANALYSIS = "analysis"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # A staff user, or null with actor_label saying who (participant study code, "system").
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    study = models.ForeignKey(
        "studies.Study", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["study", "-at"])]

    def __str__(self) -> str:
        who = self.actor_label or (self.actor.get_username() if self.actor else "system")
        return f"{self.at:%Y-%m-%d %H:%M} {who} {self.action} {self.object_type} {self.object_id}"
