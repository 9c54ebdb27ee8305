"""``send_due_invitations``: follow-up invitations on schedule and reminders; safe to run
as often as you like (cron, a systemd timer or a worker)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from fibrosurvey.web.participants.schedule import do_send_due_invitations


class Command(BaseCommand):
    help = "Send follow-up invitations that are due, and reminders; idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        result = do_send_due_invitations()
        self.stdout.write(f"invited: {result.invited}, reminded: {result.reminded}")
