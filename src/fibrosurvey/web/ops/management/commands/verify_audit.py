"""``verify_audit``: walk the audit trail's hash chain and report the first broken link."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fibrosurvey.web.audit.chain import verify_chain
from fibrosurvey.web.audit.models import AuditChainHead, AuditRecord


class Command(BaseCommand):
    help = "Check the audit trail's SHA-256 hash chain; exit 1 naming the first broken record."

    def handle(self, *args: Any, **options: Any) -> None:
        records = AuditRecord.objects.order_by("id").iterator(chunk_size=2000)
        checked, broken = verify_chain(records)
        if broken is not None:
            raise CommandError(
                f"audit chain broken at record {broken.record_id} "
                f"(record {checked} in order): {broken.reason}"
            )
        head = AuditChainHead.objects.filter(pk=1).first()
        last = AuditRecord.objects.order_by("-id").values_list("record_hash", flat=True).first()
        if head is not None and last is not None and head.last_hash != last:
            raise CommandError(
                "audit chain broken at the end: the newest records were removed "
                f"(the chain head expects {head.last_hash[:12]}…, the last record has {last[:12]}…)"
            )
        if head is not None and head.length != checked:
            raise CommandError(
                f"audit chain has {checked} records but {head.length} were written: "
                "records were removed"
            )
        self.stdout.write(f"audit chain intact: {checked} records")
