"""A REDCap data dictionary as fibrosurvey instrument definitions, one per form.

Field types (the item each becomes):

- ``radio``, ``dropdown``: a choice item with the codes of ``1, Label | 2, Label`` (whole
  numbers; letter codes are refused, since our answer codes are numbers);
- ``yesno`` (1 Yes, 0 No), ``truefalse`` (1 True, 0 False): choice items;
- ``checkbox``: one 0/1 item per box, ``<field>___<code>`` as REDCap names the export column
  (codes may be numbers or letters; a ``-`` becomes ``_``), marked with ``checkbox``;
- ``text`` by validation type: ``integer`` an integer item, ``number*`` a number item, with the
  validation min and max as bounds; ``date_ymd``/``date_dmy``/``date_mdy`` a date item; other
  types (email, phone, datetime, none) and ``notes`` a text item;
- ``slider``: an integer item, 0-100 unless min and max are given;
- ``descriptive`` and section headers start a page and become its instructions;
- ``calc``: a score rule where the calculation is a sum (``[a]+[b]``) or ``mean(...)``
  (:mod:`fibrosurvey.redcap.calc`), refused otherwise; ``file`` and ``sql``: refused.

``Identifier? = y`` sets ``identifier``. Branching logic becomes ``enable_when`` (one
comparison, or comparisons all joined by ``and`` or all by ``or``) or, when nested, the
equivalent FHIRPath ``enable_when_expression``; a refused logic leaves the item ungated and is
listed. The first field of the dictionary is REDCap's record id: the participant id, not an
item.

Dictionaries written by :func:`fibrosurvey.redcap.export.instrument_to_data_dictionary` carry
what REDCap has no column for (translations, LOINC codes, scores, pages) as JSON in a field
annotation (``@FIBROSURVEY...``), so that our instrument -> REDCap -> our instrument is exact.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from fibrosurvey.instruments import DefinitionError, Instrument, Item, load_instruments
from fibrosurvey.instruments.logic import condition_fhirpath
from fibrosurvey.instruments.registry import check_definition
from fibrosurvey.instruments.schema import EnableWhen
from fibrosurvey.redcap.calc import CalcRefused, calc_rule
from fibrosurvey.redcap.dictionary import DataDictionary, DictionaryField, checkbox_item_id
from fibrosurvey.redcap.logic import (
    All,
    Any_,
    Comparison,
    Logic,
    LogicRefused,
    parse_branching_logic,
)

__all__ = [
    "INSTRUMENT_TAG",
    "ITEM_TAG",
    "SCORE_TAG",
    "ConversionResult",
    "Refusal",
    "checkbox_item_id",
    "dictionary_to_instruments",
    "own_name",
    "parse_choices",
    "tagged_json",
]

ITEM_TAG = "@FIBROSURVEY-ITEM"
INSTRUMENT_TAG = "@FIBROSURVEY-INSTRUMENT"
SCORE_TAG = "@FIBROSURVEY-SCORE"
NO_BOUND = 1e9
INTEGER_TYPES = ("integer",)
DATE_TYPES = ("date_ymd", "date_dmy", "date_mdy")


@dataclass(frozen=True)
class Refusal:
    """Something in the dictionary that was not converted: where, which field, why."""

    line: int | None
    field: str
    reason: str

    def __str__(self) -> str:
        where = "" if self.line is None else f"line {self.line}, "
        return f"{where}field {self.field}: {self.reason}"


@dataclass(frozen=True)
class ConversionResult:
    """Instruments converted (one per form), what was refused and what was adapted.

    ``columns`` maps each REDCap export column (``field``, ``field___code``) to our column;
    ``forms`` maps each converted REDCap form name to its instrument id.
    """

    instruments: tuple[Instrument, ...]
    refusals: tuple[Refusal, ...]
    notes: tuple[str, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)
    forms: dict[str, str] = field(default_factory=dict)
    record_id_field: str = ""

    @property
    def ok(self) -> bool:
        """Whether everything in the dictionary was converted."""
        return not self.refusals


def tagged_json(annotation: str, tag: str) -> dict[str, Any] | None:
    """The JSON object after ``tag=`` in a field annotation, or None."""
    position = annotation.find(f"{tag}=")
    if position < 0:
        return None
    try:
        value, _end = json.JSONDecoder().raw_decode(annotation, position + len(tag) + 1)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def own_name(name: str, instrument_id: str) -> str:
    """A field's item id: its name without a leading ``<instrument id>_`` (as our export
    writes columns), so ``phq9_1`` in form ``phq9`` is item ``1``."""
    rest = name.removeprefix(f"{instrument_id}_")
    return rest if rest != name and re.fullmatch(r"[a-z0-9][a-z0-9_]*", rest) else name


def parse_choices(text: str) -> list[tuple[str, str]]:
    """``1, Label | 2, Label`` as (code, label) pairs; ValueError naming a bad entry."""
    pairs: list[tuple[str, str]] = []
    for entry in (part.strip() for part in re.split(r"\||\\n|\n", text)):
        if not entry:
            continue
        code, comma, label = entry.partition(",")
        if not comma or not code.strip():
            raise ValueError(f"choice {entry!r} is not 'code, label'")
        pairs.append((code.strip(), label.strip()))
    if not pairs:
        raise ValueError("no choices (expected '1, Label | 2, Label')")
    codes = [code for code, _ in pairs]
    if len(set(codes)) != len(codes):
        raise ValueError(f"choice codes repeat: {', '.join(codes)}")
    return pairs


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _instrument_id(form: str) -> str:
    return re.sub(r"[^a-z0-9]", "", form.lower())


class _Form:
    """One form being converted."""

    def __init__(self, name: str, instrument_id: str, language: str) -> None:
        self.name = name
        self.id = instrument_id
        self.language = language
        self.items: list[dict[str, Any]] = []
        self.fields: dict[str, DictionaryField] = {}  # item id -> its dictionary row
        self.breaks: dict[str, str] = {}  # item id -> instruction of the page it starts
        self.pending_break: str | None = None
        self.metadata: dict[str, Any] | None = None
        self.calcs: list[DictionaryField] = []


class _Converter:
    def __init__(self, dictionary: DataDictionary, language: str) -> None:
        self.dictionary = dictionary
        self.language = language
        self.refusals: list[Refusal] = []
        self.notes: list[str] = list(dictionary.notes)
        self.forms: dict[str, _Form] = {}
        self.items: dict[str, Item] = {}  # our column -> item (for gates)
        self.by_field: dict[str, str] = {}  # REDCap field -> our column (non-checkbox)
        self.checkboxes: dict[tuple[str, str], str] = {}  # (field, code) -> our column
        self.checkbox_fields: set[str] = set()
        self.columns: dict[str, str] = {}

    def refuse(self, row: DictionaryField, reason: str) -> None:
        self.refusals.append(Refusal(row.line, row.name, reason))

    def run(self) -> ConversionResult:
        fields = list(self.dictionary.fields)
        record_id = fields[0].name
        used_ids: dict[str, str] = {}
        for row in fields[1:]:
            form = self.forms.get(row.form)
            if form is None:
                instrument_id = _instrument_id(row.form)
                ours = tagged_json(row.annotation, INSTRUMENT_TAG) is not None
                if instrument_id in load_instruments() and not ours:
                    # A team's own "phq9" form is not our PHQ-9: same columns would mix codes.
                    self.notes.append(
                        f"line {row.line}: form {row.form!r} is imported as "
                        f"{instrument_id}redcap, since {instrument_id} is a built-in "
                        "instrument (a mapping file ties its fields to ours)"
                    )
                    instrument_id = f"{instrument_id}redcap"
                if not instrument_id or instrument_id in used_ids:
                    other = used_ids.get(instrument_id, "")
                    self.refuse(
                        row,
                        f"form {row.form!r} gives the instrument id {instrument_id!r}, "
                        f"already taken by form {other!r}; rename one form",
                    )
                    continue
                used_ids[instrument_id] = row.form
                form = self.forms[row.form] = _Form(row.form, instrument_id, self.language)
            elif form.id not in used_ids:
                continue
            self._field(form, row)
        # The record id's form may hold nothing else; it still exists as a form in REDCap.
        instruments: list[Instrument] = []
        forms: dict[str, str] = {}
        built = {name: self._with_logic(form) for name, form in self.forms.items()}
        for name, form in self.forms.items():
            instrument = self._instrument(form, built[name])
            if instrument is not None:
                instruments.append(instrument)
                forms[name] = instrument.id
        columns = {
            source: column
            for source, column in self.columns.items()
            if any(column.startswith(f"{i.id}_") for i in instruments)
        }
        return ConversionResult(
            tuple(instruments),
            tuple(sorted(self.refusals, key=lambda refusal: refusal.line or 0)),
            tuple(self.notes),
            columns,
            forms,
            record_id,
        )

    # -- one field -------------------------------------------------------------------------

    def _field(self, form: _Form, row: DictionaryField) -> None:
        if row.section_header:
            form.pending_break = _joined(form.pending_break, row.section_header)
        metadata = tagged_json(row.annotation, INSTRUMENT_TAG)
        if metadata is not None:
            form.metadata = metadata
            return
        if row.field_type == "descriptive":
            form.pending_break = _joined(form.pending_break, row.label)
            return
        if row.field_type == "calc":
            if tagged_json(row.annotation, SCORE_TAG) is None:
                form.calcs.append(row)
            return
        if row.field_type in ("file", "sql"):
            what = (
                "file uploads" if row.field_type == "file" else "SQL queries of the REDCap server"
            )
            self.refuse(row, f"{row.field_type} fields hold {what}, not survey answers")
            return
        try:
            new_items = self._items(form, row)
        except ValueError as error:
            self.refuse(row, str(error))
            return
        extras = tagged_json(row.annotation, ITEM_TAG) or {}
        for number, item in enumerate(new_items):
            item["column"] = f"{form.id}_{item['id']}"
            if row.identifier:
                item["identifier"] = True
            if row.required and row.field_type != "checkbox":
                item["required"] = True
            if number == 0 and form.pending_break is not None:
                form.breaks[item["id"]] = form.pending_break
                form.pending_break = None
            _merge_extras(item, extras.get(item["id"]) or {})
            form.items.append(item)
            form.fields[item["id"]] = row
            try:
                model = Item.model_validate(item)
            except ValidationError as error:
                form.items.pop()
                self.refuse(row, _validation_text(error))
                return
            self.items[model.column] = model
            if model.checkbox is not None:
                self.checkboxes[(row.name, model.checkbox.code)] = model.column
                self.columns[checkbox_item_id(row.name, model.checkbox.code)] = model.column
            else:
                self.by_field[row.name] = model.column
                self.columns[row.name] = model.column
        if row.field_type == "checkbox":
            self.checkbox_fields.add(row.name)

    def _text(self, text: str) -> dict[str, str]:
        return {self.language: text}

    def _items(self, form: _Form, row: DictionaryField) -> list[dict[str, Any]]:
        name = own_name(row.name, form.id)
        base: dict[str, Any] = {"id": name, "text": self._text(row.label or row.name)}
        kind = row.field_type
        if kind in ("radio", "dropdown"):
            pairs = parse_choices(row.choices)
            bad = [code for code, _ in pairs if not re.fullmatch(r"-?\d+", code)]
            if bad:
                raise ValueError(
                    f"answer codes {', '.join(bad)} are not whole numbers; fibrosurvey stores "
                    "choice answers as numbers (recode them in REDCap, e.g. 1, 2, 3)"
                )
            base["options"] = [
                {"code": int(code), "label": self._text(label)} for code, label in pairs
            ]
            return [base]
        if kind in ("yesno", "truefalse"):
            yes, no = ("Yes", "No") if kind == "yesno" else ("True", "False")
            base["options"] = [
                {"code": 1, "label": self._text(yes)},
                {"code": 0, "label": self._text(no)},
            ]
            return [base]
        if kind == "checkbox":
            boxes = []
            for code, label in parse_choices(row.choices):
                boxes.append(
                    {
                        "id": checkbox_item_id(name, code),
                        "text": self._text(label),
                        "options": [
                            {"code": 0, "label": self._text("Unchecked")},
                            {"code": 1, "label": self._text("Checked")},
                        ],
                        "checkbox": {
                            "field": name,
                            "code": code,
                            "question": self._text(row.label or row.name),
                        },
                    }
                )
            return boxes
        if kind == "slider":
            base["kind"] = "integer"
            base["minimum"] = _number(row.validation_min) if row.validation_min else 0.0
            base["maximum"] = _number(row.validation_max) if row.validation_max else 100.0
            if base["minimum"] is None or base["maximum"] is None:
                raise ValueError("slider min and max must be numbers")
            return [base]
        if kind == "notes":
            base["kind"] = "text"
            return [base]
        return [self._text_item(base, row)]

    def _text_item(self, base: dict[str, Any], row: DictionaryField) -> dict[str, Any]:
        validation = row.validation
        if validation in INTEGER_TYPES or validation.startswith("number"):
            base["kind"] = "integer" if validation in INTEGER_TYPES else "number"
            for key, text in (("minimum", row.validation_min), ("maximum", row.validation_max)):
                value = _number(text.replace(",", ".")) if text else None
                if value is not None:
                    base[key] = value
                else:
                    base[key] = -NO_BOUND if key == "minimum" else NO_BOUND
                    found = f"{text!r} is not a number" if text else "none given"
                    self.notes.append(
                        f"line {row.line}, field {row.name}: validation {key[:3]} {found}; "
                        f"{base[key]:g} used"
                    )
            return base
        if validation in DATE_TYPES:
            base["kind"] = "date"
            return base
        base["kind"] = "text"
        if validation:
            self.notes.append(
                f"line {row.line}, field {row.name}: validation {validation!r} kept as free text"
            )
        return base

    # -- branching logic ---------------------------------------------------------------------

    def _gate(self, comparison: Comparison, where: str) -> list[EnableWhen]:
        """Conditions meaning one comparison, several (any of) for an order on choice codes."""
        if comparison.code is not None:
            column = self.checkboxes.get((comparison.field, comparison.code))
            if column is None:
                raise LogicRefused(f"[{comparison.field}({comparison.code})]: no such checkbox box")
        elif comparison.field in self.checkbox_fields:
            raise LogicRefused(
                f"[{comparison.field}] is a checkbox: name the box, [{comparison.field}(code)]"
            )
        else:
            found = self.by_field.get(comparison.field)
            if found is None:
                raise LogicRefused(f"[{comparison.field}]: no such field (or it was refused)")
            column = found
        gate = self.items[column]
        if gate.kind in ("text", "date"):
            raise LogicRefused(f"[{comparison.field}] is {gate.kind}, not a number or choice")
        if comparison.value is None:
            return [
                EnableWhen(question=column, operator="exists", answer=comparison.operator == "!=")
            ]
        value = comparison.value
        if gate.kind == "choice" and comparison.operator not in ("=", "!="):
            matching = [
                code for code in gate.codes if _compare(float(code), comparison.operator, value)
            ]
            if not matching:
                raise LogicRefused(f"{where}: no answer code of {comparison.field} satisfies it")
            return [EnableWhen(question=column, operator="=", answer=code) for code in matching]
        if gate.kind == "choice" and value not in gate.codes:
            raise LogicRefused(
                f"{where}: {value:g} is not an answer code of {comparison.field} "
                f"(allowed: {gate.allowed()})"
            )
        return [EnableWhen(question=column, operator=comparison.operator, answer=value)]  # type: ignore[arg-type]

    def _logic(self, row: DictionaryField) -> dict[str, Any]:
        tree = parse_branching_logic(row.branching_logic)
        where = row.branching_logic
        if isinstance(tree, Comparison):
            conditions = self._gate(tree, where)
            return _conditions(conditions, "any" if len(conditions) > 1 else "all")
        parts = tree.parts
        if all(isinstance(part, Comparison) for part in parts):
            gated = [self._gate(part, where) for part in parts if isinstance(part, Comparison)]
            if isinstance(tree, Any_):
                return _conditions([c for group in gated for c in group], "any")
            if all(len(group) == 1 for group in gated):
                return _conditions([group[0] for group in gated], "all")
        return {"enable_when_expression": self._fhirpath(tree, where)}

    def _fhirpath(self, tree: Logic, where: str) -> str:
        if isinstance(tree, Comparison):
            conditions = self._gate(tree, where)
            texts = [condition_fhirpath(c, self.items[c.question]) for c in conditions]
            return texts[0] if len(texts) == 1 else "(" + " or ".join(texts) + ")"
        joiner = " and " if isinstance(tree, All) else " or "
        return "(" + joiner.join(self._fhirpath(part, where) for part in tree.parts) + ")"

    def _with_logic(self, form: _Form) -> list[dict[str, Any]]:
        items = []
        done: set[int] = set()
        position = {item["column"]: number for number, item in enumerate(form.items)}
        for number, item in enumerate(form.items):
            row = form.fields[item["id"]]
            if (
                row.branching_logic
                and "enable_when" not in item
                and ("enable_when_expression" not in item)
            ):
                try:
                    logic = self._logic(row)
                    later = [gate for gate in _gates(logic) if position.get(gate, -1) >= number]
                    if later:
                        raise LogicRefused(
                            f"it reads {later[0]}, which is asked later in the form (or is "
                            "the question itself); a gate must come before what it gates"
                        )
                    item = {**item, **logic}
                except LogicRefused as error:
                    if row.line not in done:
                        self.refuse(
                            row,
                            f"branching logic refused ({error}); the question is kept and "
                            "always shown",
                        )
                    done.add(row.line)
            items.append(item)
        return items

    # -- the instrument ----------------------------------------------------------------------

    def _instrument(self, form: _Form, items: list[dict[str, Any]]) -> Instrument | None:
        first_line = min((row.line for row in form.fields.values()), default=None)
        raw: dict[str, Any] = {
            "id": form.id,
            "version": "1.0.0",
            "title": self._text(form.name.replace("_", " ").strip().capitalize()),
            "languages": {
                self.language: {
                    "validated_translation": False,
                    "note": "imported from a REDCap data dictionary",
                }
            },
            "wording_verified": False,
            "recall_period": self._text(""),
            "citation": f"REDCap data dictionary, form {form.name}",
            "licence": "see the source REDCap project",
            "items": items,
        }
        if form.metadata is not None:
            raw.update(form.metadata)
        else:
            raw.update(_pages(items, form.breaks, self.language))
        scores = list(raw.get("scores") or [])
        own = {item["column"] for item in items}
        known = {name: self.items[c] for name, c in self.columns.items() if c in own}
        for row in form.calcs:
            try:
                rule_id = own_name(row.name, form.id)
                scores.append(calc_rule(rule_id, row.choices, known, form.id))
            except CalcRefused as error:
                self.refuse(row, f"calc field refused: {error}")
        if scores:
            raw["scores"] = scores
        if not items:
            if form.fields or form.calcs:
                self.refusals.append(
                    Refusal(first_line, form.name, "the form has no field that converts")
                )
            return None
        try:
            instrument = Instrument.model_validate(raw)
            check_definition(instrument)
        except ValidationError as error:
            self.refusals.append(Refusal(first_line, form.name, _validation_text(error)))
            return None
        except DefinitionError as error:
            self.refusals.append(Refusal(first_line, form.name, str(error)))
            return None
        return instrument


def _joined(earlier: str | None, text: str) -> str:
    """Section headers and descriptive texts before one question, in order."""
    return text if not earlier else f"{earlier}\n\n{text}"


def _gates(logic: dict[str, Any]) -> set[str]:
    """The columns a converted rule reads (enable_when questions, FHIRPath linkIds)."""
    gates = {condition["question"] for condition in logic.get("enable_when", [])}
    expression = logic.get("enable_when_expression") or ""
    return gates | set(re.findall(r"linkId='([a-z0-9_]+)'", expression))


def _conditions(conditions: list[EnableWhen], behavior: str) -> dict[str, Any]:
    return {
        "enable_when": [c.model_dump(mode="json") for c in conditions],
        "enable_behavior": behavior,
    }


def _compare(left: float, operator: str, right: float) -> bool:
    return {
        ">": left > right,
        "<": left < right,
        ">=": left >= right,
        "<=": left <= right,
    }[operator]


def _merge_extras(item: dict[str, Any], extras: dict[str, Any]) -> None:
    """Lay what REDCap has no column for (our JSON annotation) over the item read."""
    for key, value in extras.items():
        if key == "text" and isinstance(value, dict):
            item["text"] = {**item["text"], **value}
        elif key == "options" and isinstance(value, dict):
            for option in item.get("options", []):
                extra = value.get(str(option["code"]))
                if isinstance(extra, dict):
                    label = extra.get("label") or {}
                    option.update({k: v for k, v in extra.items() if k != "label"})
                    option["label"] = {**option["label"], **label}
        elif key == "checkbox_question" and isinstance(value, dict) and "checkbox" in item:
            item["checkbox"]["question"] = {**item["checkbox"]["question"], **value}
        else:
            item[key] = value


def _pages(items: list[dict[str, Any]], breaks: dict[str, str], language: str) -> dict[str, Any]:
    """Pages: a new one at each section header or descriptive text, and before a question
    gated by one on the same page (the survey decides what a page shows before it is
    answered)."""
    pages: list[list[str]] = []
    instructions: list[str] = []
    on_page: set[str] = set()
    for item in items:
        gates = {c["question"] for c in item.get("enable_when", [])}
        expression = item.get("enable_when_expression") or ""
        gates |= set(re.findall(r"linkId='([a-z0-9_]+)'", expression))
        if not pages or item["id"] in breaks or gates & on_page:
            pages.append([])
            instructions.append(breaks.get(item["id"], ""))
            on_page = set()
        pages[-1].append(item["id"])
        on_page.add(item["column"])
    result: dict[str, Any] = {"pages": pages}
    if any(instructions):
        result["page_instructions"] = [{language: text} for text in instructions]
    return result


def _validation_text(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
        for problem in error.errors()
    )


def dictionary_to_instruments(dictionary: DataDictionary, language: str = "en") -> ConversionResult:
    """Convert every form of ``dictionary`` (labels in ``language``) to an instrument.

    Never raises for content: what cannot be converted is in ``refusals`` with its line, field
    and reason, and the rest is converted.
    """
    return _Converter(dictionary, language).run()
