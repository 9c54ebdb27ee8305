"""Worker: process queued analysis runs and send queued e-mails (``--once``: those queued
now, then exit)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from fibrosurvey.web.analyses.services import process_queued, requeue_stale
from fibrosurvey.web.outbox.services import do_send_due_emails


class Command(BaseCommand):
    help = (
        "Process queued analysis runs and send queued e-mails. Runs forever (polling) unless "
        "--once is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Process the runs queued now, then exit."
        )
        parser.add_argument(
            "--interval", type=float, default=5.0, help="Seconds between polls (default 5)."
        )
        parser.add_argument(
            "--stale-minutes",
            type=float,
            default=120.0,
            help="Re-queue runs left 'running' this long (a worker died); default 120.",
        )

    def handle(
        self,
        *args: Any,
        once: bool = False,
        interval: float = 5.0,
        stale_minutes: float = 120.0,
        **options: Any,
    ) -> None:
        while True:
            for run in requeue_stale(stale_minutes):
                self.stdout.write(f"run {run.pk} re-queued: no result after {stale_minutes:g} min")
            for run in process_queued():
                self.stdout.write(
                    f"run {run.pk} (study {run.study_id}): {run.status}"
                    + (f" in {run.seconds:.1f} s" if run.seconds is not None else "")
                    + (f" - {run.error.splitlines()[0]}" if run.error else "")
                )
            # The one background worker also sends the e-mail outbox (safety alerts).
            for message in do_send_due_emails():
                self.stdout.write(f"e-mail {message.pk} ({message.kind}): {message.status}")
            if once:
                return
            time.sleep(interval)
