"""``audit_anchor FILE``: verify the audit trail, then append its signed head to FILE
(``-``: print it), to be kept where the database owner cannot rewrite it."""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fibrosurvey.web.audit.anchors import AuditCheckFailed, make_anchor


class Command(BaseCommand):
    help = (
        "Append the audit chain's head (length, last hash, time; signed with AUDIT_HMAC_KEY) "
        "to FILE, outside the database; verify_audit --anchor FILE checks against it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="anchor file to append to, or - for standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            line = make_anchor()
        except (AuditCheckFailed, ImproperlyConfigured) as error:
            raise CommandError(f"not anchored: {error}") from None
        if options["file"] == "-":
            self.stdout.write(line)
            return
        descriptor = os.open(options["file"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a") as handle:
            handle.write(line + "\n")
        self.stdout.write(f"anchored: {line}")
