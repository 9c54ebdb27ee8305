"""``demo_setup``: migrate, build the demo study from the synthetic cohort, print how to log in
and one participant link that opens a fresh survey."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fibrosurvey.web.demo import DEMO_PASSWORD, DEMO_USERNAME, build_demo
from fibrosurvey.web.participants.invitations import survey_url


class Command(BaseCommand):
    help = "Create (or recreate) the demo study and researcher, and print the demo login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--participants", type=int, default=120)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--scenario", default="seed-claims")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--no-migrate", action="store_true")
        parser.add_argument(
            "--force", action="store_true", help="allow running with DEBUG off (not advised)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.DEBUG or options["force"]):
            raise CommandError(
                "demo_setup creates a user with a published password; run it with DEBUG=1 "
                "(a development database), or pass --force if you really mean it."
            )
        if not options["no_migrate"]:
            call_command("migrate", verbosity=0, interactive=False)
        self.stdout.write(
            f"Building the demo study from fibrosurvey.synth.generate("
            f"{options['scenario']!r}, {options['participants']}, {options['seed']}) ..."
        )
        result = build_demo(options["participants"], options["seed"], options["scenario"])
        base = options["base_url"].rstrip("/")
        line = "-" * 72
        self.stdout.write(self.style.SUCCESS(line))
        self.stdout.write(self.style.SUCCESS(f"Demo study:  {result.study.name}"))
        self.stdout.write(
            f"             {result.participants} participants, {result.responses} responses, "
            f"{result.alerts} open safety alerts, {result.lab_results} lab results"
        )
        self.stdout.write(f"Open:        {base}/")
        self.stdout.write(f"Log in as:   {DEMO_USERNAME} / {DEMO_PASSWORD}")
        self.stdout.write(f"Dashboard:   {base}/studies/{result.study.pk}/")
        self.stdout.write(
            f"Participant link (fresh survey for {result.fresh_code}):\n"
            f"             {survey_url(result.fresh_token, base=base)}"
        )
        self.stdout.write(f"Public link: {base}{result.public_path}")
        self.stdout.write(
            f"             (open recruitment with the eligibility screener; per source: "
            f"{base}{result.public_path}?src=patient-newsletter)"
        )
        self.stdout.write(self.style.SUCCESS(line))
