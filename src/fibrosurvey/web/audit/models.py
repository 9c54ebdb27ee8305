"""The audit trail: who did what to which object, when, with before/after values."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["AuditChainHead", "AuditRecord", "AuditTrailIsAppendOnly"]


class AuditTrailIsAppendOnly(Exception):
    """Audit records are written once and never changed or deleted through the application."""


class AppendOnlyQuerySet(models.QuerySet["AuditRecord"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("audit records cannot be updated")

    def delete(self) -> NoReturn:
        raise AuditTrailIsAppendOnly("audit records cannot be deleted")

    def bulk_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("append audit records with audit.ledger.append")


class AuditChainHead(models.Model):
    """The single row holding the newest record's hash; inserts lock it (linear chain)."""

    last_hash = models.CharField(max_length=64)
    length = models.BigIntegerField(default=0)


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
        SEAL = "seal"  # the upgrade to signed records (audit.chain)

    # Set on creation (not auto_now_add) so the time is known before the hash is computed.
    at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    # A staff user (actor_label keeps the username), or null with actor_label saying who
    # (participant study code, "system"). No database constraint and DO_NOTHING: the id is
    # signed, so it stays when the user or study is deleted (attribution is never erased).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
    )
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    study = models.ForeignKey(
        "studies.Study",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # Tamper evidence (audit.chain): hash of the previous record and of this one, the key
    # that signed it (audit.keys) and the hash format (1: unsigned legacy, 2: signed).
    prev_hash = models.CharField(max_length=64, editable=False, default="")
    record_hash = models.CharField(max_length=64, editable=False, default="", db_index=True)
    key_id = models.CharField(max_length=16, editable=False, default="")
    hash_version = models.PositiveSmallIntegerField(editable=False, default=2)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["study", "-at"])]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None or not self._state.adding:
            raise AuditTrailIsAppendOnly("audit records cannot be changed once written")
        from fibrosurvey.web.audit.ledger import append

        append(AuditRecord, AuditChainHead, [self], using=kwargs.get("using") or "default")

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("audit records cannot be deleted")

    def __str__(self) -> str:
        who = self.actor_label or (f"user {self.actor_id}" if self.actor_id else "system")
        return f"{self.at:%Y-%m-%d %H:%M} {who} {self.action} {self.object_type} {self.object_id}"
