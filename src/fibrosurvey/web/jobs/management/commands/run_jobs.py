"""Worker: run queued background jobs (``--once``: those queued now, then exit)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from fibrosurvey.web.jobs.services import process_queued, requeue_stale


class Command(BaseCommand):
    help = (
        "Run queued background jobs (large CSV enrolments). Runs forever (polling) unless "
        "--once; needed when FIBROSURVEY_JOBS_IN_PROCESS=0, and re-queues jobs whose "
        "process died."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Run the jobs queued now, then exit."
        )
        parser.add_argument("--interval", type=float, default=2.0, help="Seconds between polls.")
        parser.add_argument(
            "--stale-minutes",
            type=float,
            default=60.0,
            help="Re-queue jobs left 'running' this long (their process died); default 60.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            for job in requeue_stale(options["stale_minutes"]):
                self.stdout.write(f"job {job.pk} re-queued: still running after the limit")
            for job in process_queued():
                self.stdout.write(f"job {job.pk} ({job.kind}, study {job.study_id}): {job.status}")
            if options["once"]:
                return
            time.sleep(options["interval"])
