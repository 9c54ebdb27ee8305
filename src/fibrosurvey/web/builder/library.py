"""Bringing an instrument into a study's library: upload -> preview -> save as a version.

:func:`do_import_instrument` reads an upload and returns a preview (items, skip logic, what
was refused) without saving anything; :func:`do_save_instruments` saves what a preview
showed, checking it again, as new versions, all or nothing. The source formats are one
branch point, :func:`convert_upload`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from fibrosurvey.fhir import read_questionnaire
from fibrosurvey.instruments import DefinitionError, Instrument
from fibrosurvey.instruments.registry import check_extra_definition, parse_definition
from fibrosurvey.instruments.versions import (
    Change,
    changes_between,
    definition_yaml,
    refused_changes,
)
from fibrosurvey.redcap import DictionaryError, dictionary_to_instruments, read_data_dictionary
from fibrosurvey.web.audit.services import record
from fibrosurvey.web.builder.active import parsed
from fibrosurvey.web.builder.models import InstrumentVersion, version_label
from fibrosurvey.web.studies.models import Study, StudyInstrument

__all__ = [
    "MAX_UPLOAD_BYTES",
    "Draft",
    "ImportPreview",
    "Refusal",
    "convert_upload",
    "do_import_instrument",
    "do_save_instruments",
]

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Refusal:
    """Something the import could not convert (the rest still is)."""

    line: int | None
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "reason": self.reason}


@dataclass
class Draft:
    """One instrument of an upload, as it would be saved."""

    instrument: Instrument
    definition: str  # canonical YAML
    previous: Instrument | None = None  # the study's current version, if any
    next_number: int = 1
    changes: list[Change] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)  # why it cannot be saved

    @property
    def version(self) -> str:
        return version_label(self.next_number)


@dataclass
class ImportPreview:
    source_kind: str
    source_name: str
    drafts: list[Draft] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # nothing can be saved

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.drafts) and not any(d.blocked for d in self.drafts)


def convert_upload(
    source_kind: str, data: bytes, name: str
) -> tuple[list[Instrument], list[Refusal]]:
    """The instruments an upload holds, and what could not be converted.

    The one branch point for source formats: our YAML through the core loader, a REDCap data
    dictionary and a FHIR Questionnaire through the core converters (``fibrosurvey.redcap``,
    ``fibrosurvey.fhir``). Raises DefinitionError when the file cannot be read at all.
    """
    if source_kind == InstrumentVersion.Source.YAML:
        instruments, refusals = [parse_definition(_text(data, name), name)], []
    elif source_kind == InstrumentVersion.Source.REDCAP:
        try:
            dictionary = read_data_dictionary(data)
        except DictionaryError as error:
            raise DefinitionError(
                f"{name}: not a readable REDCap data dictionary: {error}"
            ) from None
        result = dictionary_to_instruments(dictionary)
        instruments = list(result.instruments)
        refusals = [Refusal(r.line, r.field, r.reason) for r in result.refusals]
    elif source_kind == InstrumentVersion.Source.FHIR:
        try:
            resource = json.loads(_text(data, name))
        except json.JSONDecodeError as error:
            raise DefinitionError(f"{name}: not JSON: {error}") from None
        if not isinstance(resource, dict) or resource.get("resourceType") != "Questionnaire":
            raise DefinitionError(f"{name}: not a FHIR Questionnaire (resourceType)")
        instrument, problems = read_questionnaire(resource)
        instruments = [] if instrument is None else [instrument]
        refusals = [Refusal(None, text.split(":", 1)[0], text) for text in problems]
    else:
        raise DefinitionError(
            f"unknown source {source_kind!r}; allowed: {', '.join(InstrumentVersion.Source.values)}"
        )
    # Text and date items are collected as they are; direct identifiers too, but their
    # answers are stored apart, encrypted (survey.services), and never exported.
    return instruments, refusals


def _text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DefinitionError(
            f"{name}: not UTF-8 text (byte {error.start}); save the file as UTF-8"
        ) from None


def _current_versions(study: Study) -> dict[str, InstrumentVersion]:
    rows = InstrumentVersion.objects.filter(study=study, current=True)
    return {row.instrument_id: row for row in rows}


def _numbers(study: Study) -> dict[str, int]:
    numbers: dict[str, int] = {}
    for instrument_id, number in InstrumentVersion.objects.filter(study=study).values_list(
        "instrument_id", "number"
    ):
        numbers[instrument_id] = max(number, numbers.get(instrument_id, 0))
    return numbers


def _draft(study: Study, instrument: Instrument) -> Draft:
    """The version an instrument would be saved as, what it changes, and why it cannot be."""
    number = _numbers(study).get(instrument.id, 0) + 1
    instrument = instrument.model_copy(update={"version": version_label(number)})
    draft = Draft(instrument=instrument, definition=definition_yaml(instrument), next_number=number)
    try:
        check_extra_definition(instrument)
    except DefinitionError as error:
        draft.blocked.append(str(error))
    current = _current_versions(study).get(instrument.id)
    if current is not None:
        draft.previous = parsed(current)
        draft.changes = changes_between(draft.previous, instrument)
        draft.blocked += refused_changes(draft.previous, instrument)
        if not draft.changes and _same_wording(draft.previous, instrument):
            draft.blocked.append(
                f"{instrument.id}: the same as the current version {current.version}; "
                "nothing to save"
            )
    return draft


def _same_wording(old: Instrument, new: Instrument) -> bool:
    ignore = {"version"}
    return old.model_dump(exclude=ignore) == new.model_dump(exclude=ignore)


def do_import_instrument(
    study: Study, source_kind: str, uploaded_file: UploadedFile[bytes], user: User
) -> ImportPreview:
    """Read an upload and show what saving it would do; nothing is stored."""
    name = (uploaded_file.name or "upload")[:255]
    preview = ImportPreview(source_kind=source_kind, source_name=name)
    if uploaded_file.size is not None and uploaded_file.size > MAX_UPLOAD_BYTES:
        preview.problems.append(
            f"{name}: {uploaded_file.size} bytes; the limit is {MAX_UPLOAD_BYTES} bytes"
        )
        return preview
    data = uploaded_file.read(MAX_UPLOAD_BYTES + 1)
    try:
        instruments, preview.refusals = convert_upload(source_kind, data, name)
    except DefinitionError as error:
        preview.problems.append(str(error))
        return preview
    preview.drafts = [_draft(study, instrument) for instrument in instruments]
    if not preview.drafts:
        preview.problems.append(f"{name}: no instrument could be converted")
    return preview


def preview_of_saved_form(
    study: Study, source_kind: str, source_name: str, definitions: list[str], refusals: Any
) -> ImportPreview:
    """The preview again, from the definitions the preview page posts back (checked anew:
    the form is the user's, so nothing in it is trusted)."""
    preview = ImportPreview(source_kind=source_kind, source_name=source_name[:255])
    if source_kind not in InstrumentVersion.Source.values:
        preview.problems.append(f"unknown source {source_kind!r}")
    for number, text in enumerate(definitions, start=1):
        try:
            preview.drafts.append(_draft(study, parse_definition(text, f"definition {number}")))
        except DefinitionError as error:
            preview.problems.append(str(error))
    if isinstance(refusals, list):
        preview.refusals = [
            Refusal(r.get("line"), str(r.get("field", "")), str(r.get("reason", "")))
            for r in refusals
            if isinstance(r, dict)
        ]
    if not definitions:
        preview.problems.append("no definition to save")
    return preview


@transaction.atomic
def do_save_instruments(
    study: Study, preview: ImportPreview, user: User
) -> list[InstrumentVersion]:
    """Save every draft of a preview as the new current version (all or nothing)."""
    if not preview.ok:
        reasons = preview.problems + [b for d in preview.drafts for b in d.blocked]
        raise DefinitionError("; ".join(reasons) or "nothing to save")
    # Lock the study row: two owners saving the same instrument must not both get number N.
    Study.objects.select_for_update().filter(pk=study.pk).get()
    saved: list[InstrumentVersion] = []
    for draft in preview.drafts:
        draft = _draft(study, draft.instrument)
        if draft.blocked:
            raise DefinitionError("; ".join(draft.blocked))
        InstrumentVersion.objects.filter(
            study=study, instrument_id=draft.instrument.id, current=True
        ).update(current=False)
        version = InstrumentVersion.objects.create(
            study=study,
            instrument_id=draft.instrument.id,
            number=draft.next_number,
            definition=draft.definition,
            digest=hashlib.sha256(draft.definition.encode()).hexdigest(),
            current=True,
            source_kind=preview.source_kind,
            source_name=preview.source_name,
            refusals=[r.as_dict() for r in preview.refusals],
            created_by=user,
        )
        StudyInstrument.objects.update_or_create(
            study=study,
            instrument_id=draft.instrument.id,
            defaults={"version": version.version, "frozen_at": None},
        )
        record(
            "create",
            actor=user,
            study=study,
            obj=version,
            after={
                "instrument_id": version.instrument_id,
                "version": version.version,
                "digest": version.digest,
                "source": f"{version.source_kind}:{version.source_name}",
                "refused": len(version.refusals),
                "changes": [f"{c.kind} {c.column}: {c.detail}" for c in draft.changes],
            },
        )
        saved.append(version)
    return saved
