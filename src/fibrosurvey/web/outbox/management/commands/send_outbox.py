"""Worker: send queued e-mails (``--once``: those due now, then exit)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from fibrosurvey.web.outbox.services import do_send_due_emails


class Command(BaseCommand):
    help = "Send queued e-mails, retrying failures with backoff. Runs forever unless --once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Send those due now, then exit.")
        parser.add_argument(
            "--interval", type=float, default=10.0, help="Seconds between polls (default 10)."
        )

    def handle(
        self, *args: Any, once: bool = False, interval: float = 10.0, **options: Any
    ) -> None:
        while True:
            for message in do_send_due_emails():
                self.stdout.write(
                    f"e-mail {message.pk} ({message.kind}): {message.status}"
                    + (f" - {message.last_error}" if message.status != "sent" else "")
                )
            if once:
                return
            time.sleep(interval)
