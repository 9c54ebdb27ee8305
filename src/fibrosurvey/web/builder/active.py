"""Making a study's own instruments visible to the core for one request or job.

``study_view`` and the participant survey wrap each request in :func:`study_instruments`;
exports use :func:`export_instruments`, where an instrument is the union of its versions so
no column of an earlier version ever disappears.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import lru_cache

from fibrosurvey.instruments import Instrument
from fibrosurvey.instruments.extra import extra_instruments
from fibrosurvey.instruments.registry import load_instruments, parse_definition
from fibrosurvey.instruments.versions import merged_versions, scored_as
from fibrosurvey.web.builder.models import InstrumentVersion

__all__ = [
    "export_instruments",
    "instruments_for_battery",
    "parsed",
    "study_instruments",
    "version_history",
    "versioned_instruments",
]


@lru_cache(maxsize=512)
def _parsed(digest: str, definition: str) -> Instrument:
    return parse_definition(definition, "the stored definition")


def parsed(version: InstrumentVersion) -> Instrument:
    """A stored version's definition (parsed once per process; the digest names it)."""
    return _parsed(version.digest, version.definition)


@contextmanager
def study_instruments(study_id: int) -> Iterator[None]:
    """The study's own instruments, current versions, resolvable by id in the block."""
    rows = InstrumentVersion.objects.filter(study_id=study_id, current=True).only(
        "instrument_id", "digest", "definition"
    )
    with extra_instruments({row.instrument_id: (parsed(row), row.digest) for row in rows}):
        yield


def instruments_for_battery(study_id: int, battery: Iterable[str]) -> AbstractContextManager[None]:
    """:func:`study_instruments` when the battery names one of the study's own instruments;
    nothing (no query) for a battery of built-ins, which own instruments never shadow (a
    built-in id is refused for them). The participant survey asks this on every request."""
    built_in = load_instruments()
    if all(instrument_id in built_in for instrument_id in battery):
        return nullcontext()
    return study_instruments(study_id)


def version_history(study_id: int) -> dict[str, list[InstrumentVersion]]:
    """Every version of each of the study's own instruments, oldest first."""
    history: dict[str, list[InstrumentVersion]] = {}
    for row in InstrumentVersion.objects.filter(study_id=study_id).order_by(
        "instrument_id", "number"
    ):
        history.setdefault(row.instrument_id, []).append(row)
    return history


@contextmanager
def export_instruments(study_id: int, scored_by: Mapping[str, str] | None = None) -> Iterator[None]:
    """Each own instrument as the union of its versions (every column any version had),
    scored by the newest version's rules, or by the version ``scored_by`` names
    ({instrument id: version label}) for rows answered under that version."""
    added: dict[str, tuple[Instrument, str]] = {}
    for instrument_id, rows in version_history(study_id).items():
        merged = merged_versions([parsed(row) for row in rows])
        key = "export-" + "-".join(row.digest[:16] for row in rows)
        wanted = (scored_by or {}).get(instrument_id)
        given = [row for row in rows if row.version == wanted]
        if given:
            merged = scored_as(merged, parsed(given[0]))
            key += f"-as-{given[0].number}"
        added[instrument_id] = (merged, key)
    with extra_instruments(added):
        yield


def versioned_instruments(study_id: int) -> list[str]:
    """The study's own instruments with more than one version (rows may differ in version)."""
    return [i for i, rows in version_history(study_id).items() if len(rows) > 1]
