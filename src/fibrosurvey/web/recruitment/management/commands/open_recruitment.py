"""``open_recruitment``: open, reconfigure or close a study's public recruitment link.

    django-admin open_recruitment --print-default-screener > screener.yaml
    django-admin open_recruitment 7 --slug fibro-2026 --screener screener.yaml \\
        --source patient-newsletter --source clinic-poster --site north
    django-admin open_recruitment 7 --close
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from fibrosurvey.recruitment import DEFAULT_SCREENER
from fibrosurvey.web.recruitment.models import OpenLink
from fibrosurvey.web.recruitment.services import (
    do_close_recruitment,
    do_open_recruitment,
    public_path,
)
from fibrosurvey.web.studies.models import Study


class Command(BaseCommand):
    help = "Open (or reconfigure, or close) a study's open recruitment link and screener."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("study_id", type=int, nargs="?")
        parser.add_argument("--slug", help="the public link is /r/<slug>/")
        parser.add_argument("--screener", type=Path, help="YAML file (default: the built-in)")
        parser.add_argument("--source", action="append", default=[], help="a source slug")
        parser.add_argument("--site", help="site code open-link participants are enrolled at")
        parser.add_argument("--min-page-seconds", type=int, default=3)
        parser.add_argument("--close", action="store_true", help="close the link to new visitors")
        parser.add_argument("--print-default-screener", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["print_default_screener"]:
            self.stdout.write(yaml.safe_dump(DEFAULT_SCREENER, allow_unicode=True, sort_keys=False))
            return
        study = Study.objects.filter(pk=options["study_id"]).first()
        if study is None:
            raise CommandError(f"no study with id {options['study_id']}")
        if options["close"]:
            link = OpenLink.objects.filter(study=study).first()
            if link is None:
                raise CommandError(f"study {study.pk} has no open recruitment link")
            do_close_recruitment(link, actor=None)
            self.stdout.write(f"Closed: {settings.SITE_URL}{public_path(link)}")
            return
        if not options["slug"]:
            raise CommandError("--slug is required to open a link")
        screener = DEFAULT_SCREENER
        if options["screener"] is not None:
            try:
                screener = yaml.safe_load(options["screener"].read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError) as error:
                raise CommandError(f"{options['screener']}: {error}") from error
        site = None
        if options["site"]:
            site = study.sites.filter(code=options["site"]).first()
            if site is None:
                codes = sorted(study.sites.values_list("code", flat=True))
                raise CommandError(f"--site {options['site']!r}: one of {codes}")
        try:
            link = do_open_recruitment(
                study,
                actor=None,
                slug=options["slug"],
                site=site,
                sources=options["source"],
                screener=screener,
                min_page_seconds=options["min_page_seconds"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Public link: {settings.SITE_URL}{public_path(link)}")
        for source in link.sources:
            self.stdout.write(f"  {source}: {settings.SITE_URL}{public_path(link, source)}")
