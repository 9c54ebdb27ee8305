"""``worker``: the one background process. Each round it sends the invitations and
reminders that are due, runs queued jobs and analysis runs, and sends the e-mail outbox.

``make run`` starts it next to the web server, so the demo needs no cron. It reuses the
services behind ``send_due_invitations``, ``run_jobs``, ``run_analysis_jobs`` and
``send_outbox`` (which still exist, for a scheduler that prefers them one by one).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import datetime
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from fibrosurvey.web.analyses import services as analyses
from fibrosurvey.web.jobs import services as jobs
from fibrosurvey.web.outbox.services import do_send_due_emails
from fibrosurvey.web.participants.schedule import do_send_due_invitations

# The schedule is checked once a minute, not every round: it reads every study's events.
SCHEDULE_EVERY_SECONDS = 60.0


def run_round(write: Callable[[str], None], *, schedule: bool, now: datetime | None = None) -> int:
    """One round of every background task; returns how many things it did."""
    done = 0
    if schedule:
        due = do_send_due_invitations(now)
        if due.invited or due.reminded:
            write(f"invitations: {due.invited} invited, {due.reminded} reminded")
        done += due.invited + due.reminded
    for job in jobs.requeue_stale(60.0):
        write(f"job {job.pk} re-queued: still running after 60 min")
    for job in jobs.process_queued():
        write(f"job {job.pk} ({job.kind}, study {job.study_id}): {job.status}")
        done += 1
    for run in analyses.requeue_stale(120.0):
        write(f"analysis run {run.pk} re-queued: no result after 120 min")
    for run in analyses.process_queued():
        write(f"analysis run {run.pk} (study {run.study_id}): {run.status}")
        done += 1
    for message in do_send_due_emails():
        write(f"e-mail {message.pk} ({message.kind}): {message.status}")
        done += 1
    return done


class Command(BaseCommand):
    help = (
        "The background worker: scheduled follow-up invitations and reminders, queued jobs, "
        "analysis runs and the e-mail outbox, in one loop. Runs until stopped (Ctrl-C or "
        "SIGTERM) unless --once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One round, then exit.")
        parser.add_argument(
            "--interval", type=float, default=5.0, help="Seconds between rounds (default 5)."
        )

    def handle(self, *args: Any, once: bool = False, interval: float = 5.0, **options: Any) -> None:
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        # Finish the round in hand, then exit: nothing is cut off half-way.
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        write = self.stdout.write
        if not once:
            write(f"worker: started (every {interval:g} s; Ctrl-C stops it)")
        last_schedule = 0.0
        while True:
            schedule = once or time.monotonic() - last_schedule >= SCHEDULE_EVERY_SECONDS
            if schedule:
                last_schedule = time.monotonic()
            run_round(write, schedule=schedule, now=timezone.now())
            if once or stopping:
                return
            waited = 0.0
            while waited < interval and not stopping:
                time.sleep(0.2)
                waited += 0.2
            if stopping:
                write("worker: stopped")
                return
            # Between rounds, like between requests: drop a connection the database closed.
            close_old_connections()
