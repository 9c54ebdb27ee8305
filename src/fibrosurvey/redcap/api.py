"""The REDCap API path: fetch a project's data dictionary and flat records through PyCap.

A thin wrapper: it asks for exactly what the file path reads (metadata as CSV, records as
flat CSV with raw codes, data access groups included) and returns the two texts, which then
go through :func:`read_data_dictionary` and :func:`import_records` like downloaded files.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "fetch_project"]


class ApiError(RuntimeError):
    """The REDCap server refused or could not be reached; the message says what it answered."""


def fetch_project(url: str, token: str, *, timeout: float = 120.0) -> tuple[str, str]:
    """(data dictionary CSV, flat records CSV) of the project the API token opens."""
    from redcap.project import Project
    from redcap.request import RedcapError

    # PyCap checks these with assert, echoing the token; say it here without the token.
    if not url.endswith("/api/"):
        raise ApiError(f"the REDCap API URL must end in /api/ (got {url!r})")
    if len(token) != 32:
        raise ApiError(f"a REDCap API token has 32 characters (this one has {len(token)})")
    try:
        project: Any = Project(url, token, timeout=timeout)
        metadata = project.export_metadata(format_type="csv")
        records = project.export_records(
            format_type="csv", raw_or_label="raw", export_data_access_groups=True
        )
    except RedcapError as error:
        raise ApiError(f"REDCap at {url} answered: {error}") from error
    except OSError as error:
        raise ApiError(f"cannot reach REDCap at {url}: {error}") from error
    return str(metadata), str(records)
