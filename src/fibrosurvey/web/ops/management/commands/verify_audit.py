"""``verify_audit [--anchor FILE]``: check the signed audit chain, its triggers and head,
and (with --anchor) that it still contains every anchored head; exit 1 naming the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fibrosurvey.web.audit.anchors import AuditCheckFailed, check_trail, read_anchors
from fibrosurvey.web.audit.keys import audit_keys


class Command(BaseCommand):
    help = (
        "Check the audit trail's signed hash chain (AUDIT_HMAC_KEY); with --anchor FILE also "
        "that no anchored record was cut off. Exit 1 naming the first broken record."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="FILE",
            help="an anchor file written by audit_anchor (repeatable)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            keys = audit_keys()
            anchors = [a for name in options["anchor"] for a in read_anchors(Path(name), keys)]
            summary = check_trail(anchors)
        except (AuditCheckFailed, ImproperlyConfigured) as error:
            raise CommandError(str(error)) from None
        legacy = f" ({summary.legacy} unsigned records from before the upgrade, sealed)"
        self.stdout.write(
            f"audit chain intact: {summary.checked} records"
            + (legacy if summary.legacy else "")
            + (f"; {len(anchors)} anchors match" if anchors else "")
        )
