"""Our study as a REDCap project: a data dictionary and flat records REDCap can import.

Each instrument is a form named by its id; each item a field named by its column (so a flat
file of ours and REDCap's record export share column names); a checkbox item group one
checkbox field. Choice items are radio fields with their codes; integer and number items text
fields validated ``integer`` or ``number`` with min and max; dates ``date_ymd``; identifiers
``Identifier? = y``. Skip logic becomes branching logic, expressible scores become calc fields.

What REDCap has no column for (other languages, LOINC codes, option sets, units, the scoring
rules, pages) travels as JSON in field annotations: ``@FIBROSURVEY-INSTRUMENT`` on a hidden
descriptive field at the top of each form, ``@FIBROSURVEY-ITEM`` on fields, ``@FIBROSURVEY-SCORE``
on the calc fields we wrote. Reading the dictionary back (:func:`dictionary_to_instruments`)
gives the same definitions.

Records (:func:`dataset_to_records`): ``participant_id`` becomes ``record_id``, ``event``
``redcap_event_name`` (``<event>_arm_1``), item columns keep their names, a
``redcap_missing_<column>`` code goes back into its cell, and ``<form>_complete`` is the
``redcap_complete_<instrument>`` status when the dataset has one, else 1 (unverified) for a
form with any answer.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl

from fibrosurvey.instruments import Instrument, Item
from fibrosurvey.instruments.schema import EnableWhen
from fibrosurvey.redcap.calc import render_calc
from fibrosurvey.redcap.convert import INSTRUMENT_TAG, ITEM_TAG, SCORE_TAG
from fibrosurvey.redcap.dictionary import CSV_COLUMNS

__all__ = ["dataset_to_records", "instrument_to_data_dictionary", "redcap_field_name"]

RECORD_ID = "record_id"
EVENT_SUFFIX = "_arm_1"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def redcap_field_name(item: Item) -> str:
    """The REDCap field an item is written as (a checkbox box: its field's name)."""
    instrument_id = item.column[: len(item.column) - len(item.id) - 1]
    if item.checkbox is not None:
        return f"{instrument_id}_{item.checkbox.field}"
    return item.column


def _reference(item: Item) -> str:
    if item.checkbox is not None:
        return f"[{redcap_field_name(item)}({item.checkbox.code})]"
    return f"[{item.column}]"


def _comparison(condition: EnableWhen, gates: dict[str, Item]) -> str | None:
    gate = gates.get(condition.question)
    reference = _reference(gate) if gate is not None else f"[{condition.question}]"
    if condition.operator == "exists":
        return f"{reference} {'<>' if condition.answer else '='} ''"
    operator = "<>" if condition.operator == "!=" else condition.operator
    return f"{reference} {operator} '{_number(float(condition.answer))}'"


def _branching(item: Item, gates: dict[str, Item]) -> str:
    parts = [_comparison(condition, gates) for condition in item.enable_when]
    joiner = " and " if item.enable_behavior == "all" else " or "
    return joiner.join(part for part in parts if part)


def _item_extras(item: Item, language: str) -> dict[str, Any]:
    """What the dictionary's own columns cannot hold, for reading the item back exactly."""
    data = item.model_dump(mode="json", exclude_defaults=True)
    for key in (
        "id",
        "kind",
        "minimum",
        "maximum",
        "required",
        "identifier",
        "enable_when",
        "enable_behavior",
        "column",
        "options",
        "text",
        "checkbox",
    ):
        data.pop(key, None)
    if item.column != f"{item.column.split('_', 1)[0]}_{item.id}":
        data["column"] = item.column
    other = {code: text for code, text in item.text.items() if code != language}
    if other:
        data["text"] = other
    if item.enable_when and len(item.enable_when) == 1 and item.enable_behavior == "any":
        data["enable_behavior"] = "any"
    options: dict[str, Any] = {}
    for option in item.options:
        extra = option.model_dump(mode="json", exclude_defaults=True)
        extra.pop("code")
        label = {code: text for code, text in option.label.items() if code != language}
        extra.pop("label")
        if label:
            extra["label"] = label
        if extra:
            options[str(option.code)] = extra
    if options:
        data["options"] = options
    if item.checkbox is not None:
        question = {c: t for c, t in item.checkbox.question.items() if c != language}
        if question:
            data["checkbox_question"] = question
    return data


def _annotation(tag: str, data: dict[str, Any], prefix: str = "") -> str:
    return f"{prefix}{tag}={json.dumps(data, ensure_ascii=False, sort_keys=True)}"


def _choices(pairs: Iterable[tuple[str, str]]) -> str:
    return " | ".join(f"{code}, {label}" for code, label in pairs)


def _row(**cells: str) -> list[str]:
    keys = [
        "name",
        "form",
        "section",
        "type",
        "label",
        "choices",
        "note",
        "validation",
        "minimum",
        "maximum",
        "identifier",
        "logic",
        "required",
    ]
    row = [cells.get(key, "") for key in keys]
    row += ["", "", "", "", cells.get("annotation", "")]
    return row


def _text(text: dict[str, str], language: str) -> str:
    return text.get(language) or next(iter(text.values()), "")


def _instrument_rows(
    instrument: Instrument, gates: dict[str, Item], language: str
) -> list[list[str]]:
    metadata = instrument.model_dump(mode="json", exclude_defaults=True)
    metadata.pop("items")
    rows = [
        _row(
            name=f"fibrosurvey_{instrument.id}",
            form=instrument.id,
            type="descriptive",
            label=f"{_text(instrument.title, language)} (fibrosurvey {instrument.version})",
            annotation=_annotation(INSTRUMENT_TAG, metadata, "@HIDDEN "),
        )
    ]
    page_starts = {
        page[0]: _text(instrument.page_instructions[n], language)
        if instrument.page_instructions
        else ""
        for n, page in enumerate(instrument.pages)
        if page
    }
    done: set[str] = set()
    for item in instrument.items:
        if item.checkbox is not None:
            field = redcap_field_name(item)
            if field in done:
                continue
            done.add(field)
            boxes = [
                i
                for i in instrument.items
                if i.checkbox and i.checkbox.field == item.checkbox.field
            ]
            extras = {box.id: _item_extras(box, language) for box in boxes}
            rows.append(
                _row(
                    name=field,
                    form=instrument.id,
                    section=page_starts.get(item.id, ""),
                    type="checkbox",
                    label=_text(item.checkbox.question, language),
                    choices=_choices(
                        (box.checkbox.code, _text(box.text, language))
                        for box in boxes
                        if box.checkbox is not None
                    ),
                    identifier="y" if item.identifier else "",
                    logic=_branching(item, gates),
                    annotation=_annotation(ITEM_TAG, {k: v for k, v in extras.items() if v})
                    if any(extras.values())
                    else "",
                )
            )
            continue
        extras = _item_extras(item, language)
        cells: dict[str, str] = {
            "name": item.column,
            "form": instrument.id,
            "section": page_starts.get(item.id, ""),
            "label": _text(item.text, language),
            "identifier": "y" if item.identifier else "",
            "required": "y" if item.required else "",
            "logic": _branching(item, gates),
            "note": item.unit or "",
            "annotation": _annotation(ITEM_TAG, {item.id: extras}) if extras else "",
        }
        if item.kind == "choice":
            cells["type"] = "radio"
            cells["choices"] = _choices(
                (str(option.code), _text(option.label, language)) for option in item.options
            )
        elif item.kind in ("integer", "number"):
            assert item.minimum is not None and item.maximum is not None
            cells["type"] = "text"
            cells["validation"] = item.kind
            cells["minimum"] = _number(item.minimum)
            cells["maximum"] = _number(item.maximum)
        else:
            cells["type"] = "text"
            cells["validation"] = "date_ymd" if item.kind == "date" else ""
        rows.append(_row(**cells))
    by_id = {item.id: item for item in instrument.items}
    for rule in instrument.scores:
        calculation = render_calc(rule, by_id, _reference)
        if calculation is None:
            continue
        rows.append(
            _row(
                name=f"{instrument.id}_{rule.id}",
                form=instrument.id,
                type="calc",
                label=rule.id,
                choices=calculation,
                annotation=_annotation(SCORE_TAG, {"rule": rule.id}),
            )
        )
    return rows


def instrument_to_data_dictionary(instruments: Sequence[Instrument], language: str = "en") -> str:
    """A REDCap data dictionary (CSV text) with one form per instrument, in order.

    The first field is ``record_id`` on the first form (REDCap's record identifier).
    """
    gates = {item.column: item for instrument in instruments for item in instrument.items}
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerow(_row(name=RECORD_ID, form=instruments[0].id, type="text", label="Record ID"))
    for instrument in instruments:
        writer.writerows(_instrument_rows(instrument, gates, language))
    return output.getvalue()


def _cell(column: str, frame: pl.DataFrame) -> pl.Expr:
    value = pl.col(column)
    dtype = frame.schema[column]
    if dtype == pl.Date:
        value = value.dt.to_string("%Y-%m-%d")
    elif dtype.is_float():
        value = (
            pl.when(value == value.floor())
            .then(value.cast(pl.Int64).cast(pl.String))
            .otherwise(value.cast(pl.String))
        )
    else:
        value = value.cast(pl.String)
    code = f"redcap_missing_{column}"
    if code in frame.columns:
        value = pl.when(pl.col(code).is_not_null()).then(pl.col(code)).otherwise(value)
    return value.alias(column)


def _record_rows(
    table: pl.DataFrame, instruments: Sequence[Instrument], repeat: tuple[str, str] | None
) -> pl.DataFrame:
    columns: list[pl.Expr] = [pl.col("participant_id").cast(pl.String).alias(RECORD_ID)]
    if "event" in table.columns:
        columns.append((pl.col("event") + EVENT_SUFFIX).alias("redcap_event_name"))
    if repeat is not None:
        columns.append(pl.lit(repeat[0]).alias("redcap_repeat_instrument"))
        columns.append(pl.col(repeat[1]).cast(pl.String).alias("redcap_repeat_instance"))
    if "site" in table.columns:
        columns.append(pl.col("site").alias("redcap_data_access_group"))
    for instrument in instruments:
        present = [item.column for item in instrument.items if item.column in table.columns]
        columns += [_cell(column, table) for column in present]
        status = f"redcap_complete_{instrument.id}"
        if status in table.columns:
            complete = pl.col(status).cast(pl.String)
        elif present:
            answered = pl.any_horizontal([pl.col(c).is_not_null() for c in present])
            complete = pl.when(answered).then(pl.lit("1"))
        else:
            continue
        columns.append(complete.alias(f"{instrument.id}_complete"))
    return table.select(columns)


def dataset_to_records(
    dataset: pl.DataFrame,
    instruments: Sequence[Instrument],
    repeating: Mapping[str, pl.DataFrame] | None = None,
) -> str:
    """Flat records (CSV text, raw codes) of ``dataset`` for the dictionary of ``instruments``.

    ``repeating`` holds the long table of each repeating instrument (by id, with an
    ``instance`` column), written as REDCap's repeating-instrument rows.
    """
    parts = [_record_rows(dataset, instruments, None)]
    for instrument_id, table in (repeating or {}).items():
        own = [i for i in instruments if i.id == instrument_id]
        parts.append(_record_rows(table, own, (instrument_id, "instance")))
    records = pl.concat(parts, how="diagonal")
    order = [c for c in parts[0].columns[:2] if c in records.columns]
    order += [
        c for c in ("redcap_repeat_instrument", "redcap_repeat_instance") if c in records.columns
    ]
    return records.select([*order, pl.exclude(order)]).write_csv()
