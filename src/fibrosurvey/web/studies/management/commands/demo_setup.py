"""``demo_setup``: migrate, build the demo study from the synthetic cohort, print how to log in
and one participant link that opens a fresh survey."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fibrosurvey.web.demo import DEMO_PASSWORD, DEMO_USERNAME, build_demo, existing_demo
from fibrosurvey.web.participants.invitations import survey_url


class Command(BaseCommand):
    help = (
        "Create the demo study and researcher (kept as they are when they exist; --reset "
        "builds them again), and print the demo login and links."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--participants", type=int, default=120)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--scenario", default="seed-claims")
        parser.add_argument(
            "--base-url",
            default=settings.SITE_URL,
            help="the address printed for the links (default: SITE_URL, %(default)s)",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete the demo study and build it again (default: keep it as it is)",
        )
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
        kept = None if options["reset"] else existing_demo()
        if kept is None:
            if options["reset"]:
                self.stdout.write("Reset requested: deleting the demo study and its data.")
            self.stdout.write(
                f"Building the demo study from fibrosurvey.synth.generate("
                f"{options['scenario']!r}, {options['participants']}, {options['seed']}) ..."
            )
            result = build_demo(options["participants"], options["seed"], options["scenario"])
        else:
            result = kept
        base = options["base_url"].rstrip("/")
        line = "-" * 72
        self.stdout.write(self.style.SUCCESS(line))
        self.stdout.write(self.style.SUCCESS(f"Demo study:  {result.study.name}"))
        if kept is None:
            self.stdout.write(
                f"             {result.participants} participants, {result.responses} "
                f"responses, {result.alerts} open safety alerts, {result.lab_results} lab results"
            )
        else:
            self.stdout.write(
                f"             kept as it was: {result.participants} participants, "
                f"{result.responses} responses, {result.alerts} open safety alerts.\n"
                f"             To delete it and start again: make run RESET=1 "
                f"(demo_setup --reset)."
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
