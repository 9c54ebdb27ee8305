"""The audit trail: who did what to which object, when, with before/after values."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["AuditChainHead", "AuditRecord", "AuditTrailIsAppendOnly"]


class AuditTrailIsAppendOnly(Exception):
    """Audit records are written once and never changed or deleted through the application."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):  # type: ignore[no-untyped-def]
        raise AuditTrailIsAppendOnly("audit records cannot be updated")

    def delete(self):  # type: ignore[no-untyped-def]
        raise AuditTrailIsAppendOnly("audit records cannot be deleted")


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

    # Set on creation (not auto_now_add) so the time is known before the hash is computed.
    at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
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
    # Tamper evidence (audit.chain): hash of the previous record and of this one.
    prev_hash = models.CharField(max_length=64, editable=False, default="")
    record_hash = models.CharField(max_length=64, editable=False, default="", db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["study", "-at"])]

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None or not self._state.adding:
            raise AuditTrailIsAppendOnly("audit records cannot be changed once written")
        from django.db import connections, transaction

        from fibrosurvey.web.audit.chain import GENESIS, record_digest

        using = kwargs.get("using") or "default"
        connection = connections[using]
        head_table = connection.ops.quote_name(AuditChainHead._meta.db_table)
        # No savepoint of its own: a failure here must undo the change being audited too.
        with transaction.atomic(using=using, savepoint=False):
            # The UPDATE takes the head row's lock first, so concurrent inserts queue here;
            # RETURNING reads the previous hash in the same round trip.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {head_table} SET length = length + 1 WHERE id = 1 RETURNING last_hash"
                )
                row = cursor.fetchone()
            if row is None:
                AuditChainHead.objects.using(using).create(pk=1, last_hash=GENESIS, length=1)
                row = (GENESIS,)
            self.prev_hash = str(row[0])
            self.record_hash = record_digest(self, self.prev_hash)
            super().save(*args, **kwargs)
            AuditChainHead.objects.using(using).filter(pk=1).update(last_hash=self.record_hash)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise AuditTrailIsAppendOnly("audit records cannot be deleted")

    def __str__(self) -> str:
        who = self.actor_label or (self.actor.get_username() if self.actor else "system")
        return f"{self.at:%Y-%m-%d %H:%M} {who} {self.action} {self.object_type} {self.object_id}"
