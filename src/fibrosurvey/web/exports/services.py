"""Export services: each one audits, then returns what the view (or API) streams."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone

from fibrosurvey.web.audit.services import record
from fibrosurvey.web.exports.dataset import DatasetBuilder
from fibrosurvey.web.exports.writers import (
    csv_chunks,
    dictionary_csv,
    fhir_chunks,
    partitioned_zip,
    write_parquet,
    write_partitioned,
)
from fibrosurvey.web.studies.models import Membership, Site, Study

__all__ = ["FORMATS", "ExportRequest", "do_export", "do_export_partitioned"]

FORMATS = ("csv", "parquet", "partitioned", "dictionary", "fhir")


@dataclass(frozen=True)
class ExportRequest:
    membership: Membership
    actor: User
    format: str
    request: HttpRequest | None = None


def _filename(membership: Membership, suffix: str) -> str:
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return f"study{membership.study_id}-{stamp}-{suffix}"


def _audit(job: ExportRequest, builder: DatasetBuilder, **extra: Any) -> None:
    with transaction.atomic():
        record(
            "export",
            actor=job.actor,
            study=job.membership.study,
            object_type="exports.export",
            after={
                "format": job.format,
                "kind": "deidentified",
                "rows": builder.count_rows(),
                "columns": builder.columns,
                "site": job.membership.site.code if job.membership.site is not None else None,
                **extra,
            },
            request=job.request,
        )


def do_export(job: ExportRequest) -> HttpResponseBase:
    """The de-identified export in ``job.format`` as a (streaming) response; audited first."""
    if job.format not in FORMATS:
        raise ValueError(f"unknown export format {job.format!r}; allowed: {', '.join(FORMATS)}")
    builder = DatasetBuilder(job.membership.study, job.membership)
    if job.format == "csv":
        _audit(job, builder)
        response: HttpResponseBase = StreamingHttpResponse(
            csv_chunks(builder), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{_filename(job.membership, "dataset.csv")}"'
        )
        return response
    if job.format == "parquet":
        _audit(job, builder)
        handle, _rows = write_parquet(builder)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=_filename(job.membership, "dataset.parquet"),
            content_type="application/vnd.apache.parquet",
        )
    if job.format == "partitioned":
        _audit(job, builder, layout="chunk=<k>/part.parquet")
        handle, _rows = partitioned_zip(builder)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=_filename(job.membership, "dataset-partitioned.zip"),
            content_type="application/zip",
        )
    if job.format == "dictionary":
        _audit(job, builder)
        response = HttpResponse(dictionary_csv(builder), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{_filename(job.membership, "dictionary.csv")}"'
        )
        return response
    _audit(job, builder)
    response = StreamingHttpResponse(fhir_chunks(builder), content_type="application/fhir+json")
    response["Content-Disposition"] = (
        f'attachment; filename="{_filename(job.membership, "responses.fhir.json")}"'
    )
    return response


def do_export_partitioned(
    study: Study, folder: Path, site: Site | None = None, participants_per_file: int = 100_000
) -> dict[str, object]:
    """The de-identified dataset as a partitioned Parquet folder on the server (the
    ``export_dataset`` command: PostgreSQL to the DuckDB/Spark engines without a CSV step).
    Audited first, as every export; returns the manifest."""
    builder = DatasetBuilder(study, site=site)
    with transaction.atomic():
        record(
            "export",
            actor_label="export_dataset command",
            study=study,
            object_type="exports.export",
            after={
                "format": "partitioned",
                "kind": "deidentified",
                "rows": builder.count_rows(),
                "columns": builder.columns,
                "site": site.code if site is not None else None,
                "folder": str(folder),
            },
        )
    return write_partitioned(builder, folder, participants_per_file)
