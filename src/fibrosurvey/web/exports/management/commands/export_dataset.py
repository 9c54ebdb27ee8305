"""Write a study's de-identified dataset as partitioned Parquet for the DuckDB/Spark engines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fibrosurvey.web.exports.services import do_export_partitioned
from fibrosurvey.web.studies.models import Site, Study


class Command(BaseCommand):
    help = (
        "Write the de-identified analysis dataset of a study to a new folder as partitioned "
        "Parquet (chunk=<k>/part.parquet and manifest.json), the layout that "
        "`fibrosurvey analyze FOLDER --engine duckdb|spark` reads. Audited as an export."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--study", type=int, required=True, help="Study id.")
        parser.add_argument("--out", type=Path, required=True, help="New folder to write.")
        parser.add_argument("--site", help="Only this site (its code).")
        parser.add_argument(
            "--participants-per-file",
            type=int,
            default=100_000,
            help="Participants per chunk=<k>/part.parquet file (default 100000).",
        )

    def handle(
        self,
        *args: Any,
        study: int,
        out: Path,
        site: str | None = None,
        participants_per_file: int = 100_000,
        **options: Any,
    ) -> None:
        found = Study.objects.filter(pk=study).first()
        if found is None:
            raise CommandError(f"no study with id {study}; see the study list in the web app")
        limited = None
        if site is not None:
            limited = Site.objects.filter(study=found, code=site).first()
            if limited is None:
                codes = ", ".join(found.sites.values_list("code", flat=True))
                raise CommandError(f"study {study} has no site {site!r}; allowed: {codes}")
        if participants_per_file < 1:
            raise CommandError("--participants-per-file must be at least 1")
        try:
            manifest = do_export_partitioned(found, out, limited, participants_per_file)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"wrote {out}: {manifest['rows']:,} rows in {manifest['chunks']} chunk files "
            f"({out / 'manifest.json'})"
        )
