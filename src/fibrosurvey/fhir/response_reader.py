"""A FHIR R4 QuestionnaireResponse read into one row of fibrosurvey columns, or refused.

Which instrument: the ``questionnaire`` canonical when it is one of ours
(``https://fibrosurvey.org/fhir/Questionnaire/<id>[|version]``); otherwise LOINC, as written by
SDC tools that render the LOINC panels (e.g. NLM's LHC-Forms): an instrument's panel code in
the canonical or in a linkId (``/44249-1``), else the one instrument whose item codes the
linkIds carry. A caller may also name the instrument.

Which item: a response item's ``linkId`` is one of our columns (``phq9_1``, as in our own
Questionnaires), or its last ``/``-separated segment is the item's LOINC code (``/44250-9``,
LHC-Forms style). Groups are walked into at any depth; groups carry no answers.

Which answer: a ``valueCoding`` must be one of the item's options, matched on system and code
(LOINC ``LA`` codes or our own CodeSystem). An ``LA`` code with no system is accepted as LOINC,
since LHC-Forms omits the system when its source Questionnaire does and ``LA`` codes exist only
in LOINC. A ``valueInteger`` must be an option's numeric code (the score) for choice items, or
in range for integer items; number items take ``valueDecimal`` or ``valueInteger``.

Published panel items that fibrosurvey deliberately does not store are skipped and reported in
:attr:`ResponseReading.ignored`: calculated totals (fibrosurvey recomputes scores from the
items; a total in the file is never trusted or compared) and the PHQ-9 "how difficult"
question (see :data:`NOT_IMPORTED_LOINC`). Anything else that does not match raises
:class:`FhirMappingError` listing every problem; nothing is guessed. The finished row is
then checked with ``validate_response``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from fibrosurvey.fhir import urls
from fibrosurvey.fhir.errors import FhirMappingError, shown
from fibrosurvey.fhir.models import QuestionnaireResponse, validated
from fibrosurvey.fhir.questionnaire import answer_coding, recall_link_id
from fibrosurvey.instruments import Instrument, Item, load_instruments
from fibrosurvey.problems import Problem
from fibrosurvey.validation import validate_frame, validate_response

__all__ = [
    "NOT_IMPORTED_LOINC",
    "ResponseReading",
    "read_bundle",
    "read_response",
    "read_response_detail",
]

Value = int | float | None

LOINC_CODE = re.compile(r"^\d{1,8}-\d$")
LOINC_ANSWER_CODE = re.compile(r"^LA\d{1,8}-\d$")

# LOINC items of the published panels that are not items of our definitions. They are read
# past (and reported), not refused, because forms built from the LOINC panels carry them
# (LHC-Forms' PHQ-9 has the total and the "how difficult" question; its GAD-7 the total).
# Any other code is refused: add one here only with its LOINC meaning checked.
NOT_IMPORTED_LOINC: dict[str, dict[str, str]] = {
    "phq9": {
        "44261-6": "PHQ-9 total score: calculated; fibrosurvey recomputes it from the items",
        "69722-7": "PHQ-9 'how difficult' question: not part of fibrosurvey's PHQ-9",
    },
    "gad7": {
        "70274-6": "GAD-7 total score: calculated; fibrosurvey recomputes it from the items",
    },
}

STATUS_REFUSED = "entered-in-error"


@dataclass(frozen=True)
class ResponseReading:
    """What a response held: the instrument, the row, and items deliberately skipped."""

    instrument_id: str
    row: dict[str, Value]
    ignored: list[str] = field(default_factory=list)
    # Copied as written (e.g. "Patient/P0001"); mapping a reference to a participant id is
    # the caller's business.
    subject_reference: str | None = None
    authored: str | None = None


@dataclass
class _Reader:
    instrument: Instrument
    problems: list[Problem] = field(default_factory=list)
    row: dict[str, Value] = field(default_factory=dict)
    seen: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)

    def problem(self, path: str, value: object, allowed: str, message: str) -> None:
        self.problems.append(Problem(None, path, shown(value), allowed, message))

    def item_for(self, link_id: str) -> Item | None:
        segment = link_id.rstrip("/").rsplit("/", 1)[-1]
        for item in self.instrument.items:
            if link_id == item.column or (item.loinc is not None and segment == item.loinc):
                return item
        return None

    def skip_reason(self, link_id: str) -> str | None:
        if link_id == recall_link_id(self.instrument):
            return "recall-period text"
        segment = link_id.rstrip("/").rsplit("/", 1)[-1]
        return NOT_IMPORTED_LOINC.get(self.instrument.id, {}).get(segment)

    def group_link_ids(self) -> set[str]:
        panel = {f"/{self.instrument.loinc}"} if self.instrument.loinc else set()
        return {self.instrument.id, *panel}

    def allowed_link_ids(self) -> str:
        columns = ", ".join(self.instrument.item_columns())
        codes = [f"/{item.loinc}" for item in self.instrument.items if item.loinc]
        return columns + (f"; or LOINC linkIds {', '.join(codes)}" if codes else "")

    def walk(self, items: list[dict[str, Any]], path: str) -> None:
        for index, element in enumerate(items):
            here = f"{path}.item[{index}]"
            link_id = str(element.get("linkId", ""))
            where = f"{here} (linkId {link_id!r})"
            children = element.get("item") or []
            answers = element.get("answer") or []
            item = self.item_for(link_id)
            if item is None:
                reason = self.skip_reason(link_id)
                if reason is not None:
                    self.ignored.append(f"{link_id}: {reason}")
                elif not children and not answers and link_id in self.group_link_ids():
                    pass  # the instrument's own (empty) group: nothing to read
                elif children and not answers:
                    self.walk(children, here)  # a group: only its items carry answers
                else:
                    self.problem(where, link_id, self.allowed_link_ids(), "unknown question")
                continue
            if children:
                self.problem(where, link_id, "", "a question must not hold nested items")
            if item.column in self.seen:
                self.problem(
                    where,
                    link_id,
                    "",
                    f"{item.column} is answered twice (also at {self.seen[item.column]})",
                )
                continue
            self.seen[item.column] = where
            if len(answers) > 1:
                values = [shown(_value_of(answer)[1]) for answer in answers]
                self.problem(
                    where, values, "one answer", f"{item.column} has {len(answers)} answers"
                )
                continue
            if answers:
                self.row[item.column] = self.read_answer(item, answers[0], f"{where}.answer[0]")

    def read_answer(self, item: Item, answer: dict[str, Any], path: str) -> Value:
        if answer.get("item"):
            self.problem(path, "nested items", "", "items nested under an answer are not supported")
        kind, value = _value_of(answer)
        if isinstance(value, bool):
            kind = "valueBoolean"  # never a number, even though Python's bool is an int
        if item.kind == "choice":
            if kind == "valueCoding":
                return self.read_coding(item, value, path)
            if kind == "valueInteger" and value in item.codes:
                return int(value)
            allowed = f"valueCoding {self.allowed_codings(item)}; or valueInteger {item.allowed()}"
        elif item.kind == "integer":
            if kind == "valueInteger" or (kind == "valueDecimal" and float(value).is_integer()):
                return int(value)
            allowed = f"valueInteger, {item.allowed()}"
        else:
            if kind in ("valueDecimal", "valueInteger"):
                return float(value)
            allowed = f"valueDecimal, {item.allowed()}"
        self.problem(f"{path}.{kind}", value, allowed, f"not an answer to {item.column}")
        return None

    def allowed_codings(self, item: Item) -> str:
        codings = [answer_coding(self.instrument, item, option) for option in item.options]
        return ", ".join(f"{coding['system']}|{coding['code']}" for coding in codings)

    def read_coding(self, item: Item, coding: dict[str, Any], path: str) -> Value:
        system = coding.get("system")
        code = coding.get("code")
        if system is None and isinstance(code, str) and LOINC_ANSWER_CODE.match(code):
            system = urls.LOINC
        for option in item.options:
            expected = answer_coding(self.instrument, item, option)
            if (system, code) == (expected["system"], expected["code"]):
                return option.code
        self.problem(
            f"{path}.valueCoding",
            {"system": coding.get("system"), "code": code},
            self.allowed_codings(item),
            f"not one of the answer codes of {item.column}",
        )
        return None


def _value_of(answer: dict[str, Any]) -> tuple[str, Any]:
    # Structure was validated by fhir.resources, so exactly one value[x] is present.
    for key, value in answer.items():
        if key.startswith("value"):
            return key, value
    return "(no value)", None


def _link_ids(items: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for element in items:
        found.append(str(element.get("linkId", "")))
        found += _link_ids(element.get("item") or [])
        for answer in element.get("answer") or []:
            found += _link_ids(answer.get("item") or [])
    return found


def _mentions(text: str, code: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text) is not None


def _identify(resource: Mapping[str, Any]) -> tuple[Instrument | None, list[Problem]]:
    instruments = load_instruments()
    canonical = str(resource.get("questionnaire") or "")
    url, _, version = canonical.partition("|")
    if url.startswith(urls.QUESTIONNAIRE_BASE):
        instrument_id = url[len(urls.QUESTIONNAIRE_BASE) :]
        if instrument_id not in instruments:
            known = ", ".join(urls.QUESTIONNAIRE_BASE + name for name in instruments)
            return None, [
                Problem(None, "questionnaire", shown(canonical), known, "unknown questionnaire")
            ]
        instrument = instruments[instrument_id]
        if version and version.split(".")[0] != instrument.version.split(".")[0]:
            problem = Problem(
                None,
                "questionnaire",
                shown(canonical),
                f"version {instrument.version.split('.')[0]}.x",
                f"answers a different major version of {instrument_id}",
            )
            return None, [problem]
        return instrument, []
    link_ids = _link_ids(list(resource.get("item") or []))
    places = [canonical, *link_ids]
    by_panel = [
        instrument
        for instrument in instruments.values()
        if instrument.loinc and any(_mentions(place, instrument.loinc) for place in places)
    ]
    segments = {link_id.rstrip("/").rsplit("/", 1)[-1] for link_id in link_ids}
    by_items = [
        instrument
        for instrument in instruments.values()
        if segments & {item.loinc for item in instrument.items if item.loinc}
    ]
    candidates = by_panel or by_items
    if len(candidates) == 1:
        return candidates[0], []
    panels = ", ".join(f"{i.loinc} ({i.id})" for i in instruments.values() if i.loinc)
    ours = f"{urls.QUESTIONNAIRE_BASE}<id>"
    if candidates:
        names = ", ".join(instrument.id for instrument in candidates)
        message = f"matches several instruments ({names}); name the instrument"
    else:
        message = "cannot tell which instrument this answers"
    allowed = f"questionnaire {ours}, or LOINC panels {panels}"
    return None, [Problem(None, "questionnaire", shown(canonical), allowed, message)]


# Real questionnaires nest items a few levels deep; hostile input may nest thousands, which
# would end in RecursionError inside the FHIR model validation instead of a clear refusal.
MAX_NESTING = 100


def _nesting_depth(value: object, limit: int) -> int:
    """Deepest list/dict nesting, walked iteratively (no recursion); stops past ``limit``."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping):
            children: list[object] = list(node.values())
        elif isinstance(node, list):
            children = list(node)
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _map(resource: Mapping[str, Any], instrument_id: str | None) -> ResponseReading:
    """The response mapped onto an instrument's columns; values not yet range-checked."""
    if not isinstance(resource, Mapping):
        problem = Problem(None, "(resource)", shown(resource), "a JSON object", "not a resource")
        raise FhirMappingError([problem], "not a FHIR resource")
    kind = resource.get("resourceType")
    if kind != "QuestionnaireResponse":
        problem = Problem(
            None, "resourceType", shown(kind), "QuestionnaireResponse", "wrong resource type"
        )
        raise FhirMappingError([problem], "not a QuestionnaireResponse")
    depth = _nesting_depth(resource, MAX_NESTING)
    if depth > MAX_NESTING:
        problem = Problem(
            None,
            "item",
            f"more than {MAX_NESTING} levels",
            f"at most {MAX_NESTING}",
            "nested too deeply",
        )
        raise FhirMappingError([problem], "not a valid FHIR R4 QuestionnaireResponse")
    validated(QuestionnaireResponse, dict(resource))
    if resource.get("status") == STATUS_REFUSED:
        problem = Problem(
            None, "status", STATUS_REFUSED, "", "the response was withdrawn as entered in error"
        )
        raise FhirMappingError([problem], "response not imported")
    if instrument_id is not None:
        instruments = load_instruments()
        if instrument_id not in instruments:
            known = ", ".join(instruments)
            problem = Problem(None, "(instrument)", instrument_id, known, "unknown instrument")
            raise FhirMappingError([problem], "response not imported")
        instrument: Instrument | None = instruments[instrument_id]
        url = str(resource.get("questionnaire") or "").partition("|")[0]
        named = url[len(urls.QUESTIONNAIRE_BASE) :]
        if url.startswith(urls.QUESTIONNAIRE_BASE) and named != instrument_id:
            problem = Problem(
                None,
                "questionnaire",
                url,
                urls.QUESTIONNAIRE_BASE + instrument_id,
                f"the response answers {named!r}, not the instrument asked for",
            )
            raise FhirMappingError([problem], "response not imported")
    else:
        instrument, problems = _identify(resource)
        if instrument is None:
            raise FhirMappingError(problems, "cannot identify the instrument")
    assert instrument is not None
    reader = _Reader(instrument)
    reader.walk(list(resource.get("item") or []), "QuestionnaireResponse")
    if reader.problems:
        raise FhirMappingError(
            reader.problems, f"the response does not match {instrument.id} {instrument.version}"
        )
    row: dict[str, Value] = {column: reader.row.get(column) for column in instrument.item_columns()}
    subject = resource.get("subject")
    reference = subject.get("reference") if isinstance(subject, Mapping) else None
    authored = resource.get("authored")
    return ResponseReading(
        instrument.id,
        row,
        reader.ignored,
        None if reference is None else str(reference),
        None if authored is None else str(authored),
    )


def read_response_detail(
    resource: Mapping[str, Any], instrument_id: str | None = None
) -> ResponseReading:
    """Map a QuestionnaireResponse (R4 JSON data) onto an instrument's columns.

    Returns every item column of the instrument (unanswered ones as None) plus the linkIds
    deliberately skipped. Raises FhirMappingError listing every problem.
    """
    reading = _map(resource, instrument_id)
    report = validate_response(reading.row, reading.instrument_id, refuse="not_applicable")
    if not report.ok:
        raise FhirMappingError(
            report.problems, f"the answers are not valid {reading.instrument_id} answers"
        )
    return reading


def read_response(
    resource: Mapping[str, Any], instrument_id: str | None = None
) -> dict[str, Value]:
    """A QuestionnaireResponse as a row ``{column: value}``; see :func:`read_response_detail`."""
    return read_response_detail(resource, instrument_id).row


def read_bundle(
    resource: Mapping[str, Any], instrument_id: str | None = None
) -> list[ResponseReading]:
    """Every QuestionnaireResponse in a Bundle (e.g. our own export), in entry order.

    Every entry must be a QuestionnaireResponse that maps; otherwise FhirMappingError lists
    the problems of every entry, each path prefixed with ``entry[i]``. Nothing is returned
    for a Bundle with any bad entry.
    """
    if not isinstance(resource, Mapping) or resource.get("resourceType") != "Bundle":
        kind = resource.get("resourceType") if isinstance(resource, Mapping) else resource
        problem = Problem(None, "resourceType", shown(kind), "Bundle", "not a Bundle")
        raise FhirMappingError([problem], "not a Bundle")
    entries = resource.get("entry") or []
    if not isinstance(entries, list):
        problem = Problem(None, "entry", shown(entries), "a list of entries", "malformed Bundle")
        raise FhirMappingError([problem], "not a valid FHIR R4 Bundle")
    readings: list[ResponseReading] = []
    problems: list[Problem] = []
    for index, entry in enumerate(entries):
        content = entry.get("resource") if isinstance(entry, Mapping) else None
        try:
            readings.append(_map(content or {}, instrument_id))
        except FhirMappingError as error:
            problems += [replace(p, column=f"entry[{index}].{p.column}") for p in error.problems]
    if not problems:
        problems = _value_problems(readings)
    if problems:
        raise FhirMappingError(problems, "the Bundle holds responses that do not map")
    return readings


def _value_problems(readings: list[ResponseReading]) -> list[Problem]:
    """Range and code checks for all readings at once: one vectorised pass per instrument."""
    problems: list[Problem] = []
    for instrument_id in dict.fromkeys(reading.instrument_id for reading in readings):
        entries = [
            i for i, reading in enumerate(readings) if reading.instrument_id == instrument_id
        ]
        columns = list(readings[entries[0]].row)
        frame = pl.DataFrame(
            {column: [_text(readings[i].row[column]) for i in entries] for column in columns},
            schema=dict.fromkeys(columns, pl.String),
        )
        for problem in validate_frame(frame, [instrument_id]).problems:
            entry = entries[(problem.row or 1) - 1]
            problems.append(
                Problem(
                    None,
                    f"entry[{entry}].{problem.column}",
                    problem.value,
                    problem.allowed,
                    problem.message,
                )
            )
    return sorted(problems, key=lambda problem: _entry_number(problem.column))


def _text(value: Value) -> str | None:
    return None if value is None else str(value)


def _entry_number(path: str) -> int:
    match = re.match(r"entry\[(\d+)\]", path)
    return int(match.group(1)) if match else -1
