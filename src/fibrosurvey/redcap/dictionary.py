"""Reading a REDCap data dictionary (the "Data Dictionary" CSV, or the API's metadata export).

REDCap writes 18 columns. The CSV download names them as the Online Designer shows them
("Variable / Field Name", "Choices, Calculations, OR Slider Labels"...); the API's metadata
export names them in snake case (``field_name``, ``select_choices_or_calculations``...). Both
are read. What real files carry and is handled here:

- a UTF-8 byte order mark, or Windows-1252 text (REDCap on Windows, Excel re-saves);
- curly quotes and non-breaking spaces in branching logic and calculations (word processors),
  made straight so the parser sees ``'1'``; labels and choices keep them as text;
- control characters in labels (pasted from PDFs), dropped;
- trailing empty columns (Excel), ignored when their header and cells are empty.

Every row keeps the line of the file it starts on, so a refusal can name it.
"""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from fibrosurvey.problems import Problem

__all__ = [
    "API_COLUMNS",
    "CSV_COLUMNS",
    "DataDictionary",
    "DictionaryError",
    "DictionaryField",
    "checkbox_item_id",
    "decode_bytes",
    "read_data_dictionary",
]

# The 18 columns in REDCap's order: the data dictionary CSV's header, then the API's name.
CSV_COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
API_COLUMNS = (
    "field_name",
    "form_name",
    "section_header",
    "field_type",
    "field_label",
    "select_choices_or_calculations",
    "field_note",
    "text_validation_type_or_show_slider_number",
    "text_validation_min",
    "text_validation_max",
    "identifier",
    "branching_logic",
    "required_field",
    "custom_alignment",
    "question_number",
    "matrix_group_name",
    "matrix_ranking",
    "field_annotation",
)
REQUIRED_COLUMNS = ("field_name", "form_name", "field_type", "field_label")

FIELD_TYPES = (
    "text",
    "notes",
    "dropdown",
    "radio",
    "checkbox",
    "yesno",
    "truefalse",
    "calc",
    "slider",
    "descriptive",
    "file",
    "sql",
)

_STRAIGHTEN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\ufeff": "",
        "\u200b": "",
    }
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff\u200b]")
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")


class DictionaryError(ValueError):
    """The file is not a data dictionary REDCap could have written; ``problems`` say where."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


@dataclass(frozen=True)
class DictionaryField:
    """One row of the dictionary, cleaned. ``line`` is the file line the row starts on."""

    line: int
    name: str
    form: str
    field_type: str
    label: str
    section_header: str = ""
    choices: str = ""
    note: str = ""
    validation: str = ""
    validation_min: str = ""
    validation_max: str = ""
    identifier: bool = False
    branching_logic: str = ""
    required: bool = False
    custom_alignment: str = ""
    question_number: str = ""
    matrix_group: str = ""
    matrix_ranking: str = ""
    annotation: str = ""


@dataclass(frozen=True)
class DataDictionary:
    """The rows of a data dictionary in file order, and what reading it noticed."""

    fields: tuple[DictionaryField, ...]
    encoding: str = "utf-8"
    notes: tuple[str, ...] = field(default_factory=tuple)

    def forms(self) -> list[str]:
        """Form (instrument) names in the order they first appear."""
        return list(dict.fromkeys(f.form for f in self.fields))

    def field(self, name: str) -> DictionaryField | None:
        return next((f for f in self.fields if f.name == name), None)


def checkbox_item_id(field_name: str, code: str) -> str:
    """The export column of one checkbox box: ``field___code``, lower case, ``-`` as ``_``."""
    return f"{field_name}___{re.sub(r'[^a-z0-9_]', '_', code.lower())}"


def straighten(text: str) -> str:
    """Curly quotes, odd spaces and dashes as their ASCII forms (for logic and choices)."""
    return text.translate(_STRAIGHTEN)


def clean_label(text: str) -> str:
    """A label as plain text: no control characters, HTML tags or entities, trimmed."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n"))
    if "<" in text or "&" in text:
        text = html.unescape(_TAG.sub("", text))
    return text.strip()


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Text and encoding of a REDCap file: UTF-8 (BOM or not), else Windows-1252."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _header_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", straighten(text).lower()).strip()


_HEADER_KEYS = {
    **{_header_key(name): api for name, api in zip(CSV_COLUMNS, API_COLUMNS, strict=True)},
    **{_header_key(api): api for api in API_COLUMNS},
}


def _is_yes(value: str) -> bool:
    return value.strip().lower() in ("y", "yes", "1")


def read_data_dictionary(source: str | bytes | Path) -> DataDictionary:
    """Read a REDCap data dictionary from a path, the file's bytes or its text.

    Raises :class:`DictionaryError` naming the line and column of every problem (a missing
    column, an unknown field type, a duplicated field name, cells beyond the header).
    """
    encoding = "utf-8"
    if isinstance(source, Path):
        try:
            data = source.read_bytes()
        except OSError as error:
            raise DictionaryError([Problem(None, str(source), "", "", str(error))]) from error
        text, encoding = decode_bytes(data)
    elif isinstance(source, bytes):
        text, encoding = decode_bytes(source)
    else:
        text = source.removeprefix("\ufeff")
    text = text.replace("\x00", "")
    try:
        rows = list(_records(text))
    except csv.Error as error:
        raise DictionaryError([Problem(None, "file", "", "", f"not a CSV file: {error}")]) from None
    if not rows:
        raise DictionaryError([Problem(None, "file", "", ", ".join(CSV_COLUMNS), "empty file")])
    header_line, header = rows[0]
    columns: dict[int, str] = {}
    problems: list[Problem] = []
    for position, name in enumerate(header):
        key = _HEADER_KEYS.get(_header_key(name))
        if key is not None:
            columns[position] = key
        elif name.strip():
            problems.append(
                Problem(
                    None,
                    name,
                    name,
                    ", ".join(CSV_COLUMNS),
                    f"line {header_line}: not a data dictionary column",
                )
            )
    missing = [name for name in REQUIRED_COLUMNS if name not in columns.values()]
    if missing:
        names = [CSV_COLUMNS[API_COLUMNS.index(name)] for name in missing]
        problems.append(
            Problem(
                None,
                ", ".join(names),
                "",
                ", ".join(CSV_COLUMNS),
                f"line {header_line}: the header lacks {', '.join(names)}; is this a REDCap "
                "data dictionary (Project Setup > Data Dictionary > Download)?",
            )
        )
        raise DictionaryError(problems)
    problems.clear()  # extra named columns are tolerated (later REDCap versions add some)
    fields: list[DictionaryField] = []
    seen: dict[str, int] = {}
    for line, cells in rows[1:]:
        if not any(cell.strip() for cell in cells):
            continue
        extra = [cell for position, cell in enumerate(cells) if position >= len(header)]
        if any(cell.strip() for cell in extra):
            problems.append(
                Problem(
                    None,
                    "row",
                    ",".join(extra),
                    f"{len(header)} cells",
                    f"cells beyond the header on line {line} (a label with an unquoted comma?)",
                )
            )
            continue
        values = {
            columns[position]: cell for position, cell in enumerate(cells) if position in columns
        }
        name = straighten(values.get("field_name", "")).strip()
        form = straighten(values.get("form_name", "")).strip()
        field_type = values.get("field_type", "").strip().lower()
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            problems.append(
                Problem(
                    None,
                    "Variable / Field Name",
                    name,
                    "lower-case letters, digits and _ starting with a letter",
                    f"line {line}: not a REDCap field name",
                )
            )
            continue
        if name in seen:
            problems.append(
                Problem(
                    None,
                    "Variable / Field Name",
                    name,
                    "unique names",
                    f"line {line}: {name!r} is already defined on line {seen[name]}",
                )
            )
            continue
        seen[name] = line
        if not re.fullmatch(r"[a-z0-9_]+", form):
            problems.append(
                Problem(
                    None,
                    "Form Name",
                    form,
                    "lower-case letters, digits and _",
                    f"line {line}: field {name!r} has no valid form name",
                )
            )
            continue
        if field_type not in FIELD_TYPES:
            problems.append(
                Problem(
                    None,
                    "Field Type",
                    field_type,
                    ", ".join(FIELD_TYPES),
                    f"line {line}: field {name!r} has an unknown field type",
                )
            )
            continue
        fields.append(
            DictionaryField(
                line=line,
                name=name,
                form=form,
                field_type=field_type,
                label=clean_label(values.get("field_label", "")),
                section_header=clean_label(values.get("section_header", "")),
                # Not straightened: its labels keep their quotes (a calculation is, when read).
                choices=_CONTROL.sub("", values.get("select_choices_or_calculations", "")).strip(),
                note=clean_label(values.get("field_note", "")),
                validation=values.get("text_validation_type_or_show_slider_number", "")
                .strip()
                .lower(),
                validation_min=straighten(values.get("text_validation_min", "")).strip(),
                validation_max=straighten(values.get("text_validation_max", "")).strip(),
                identifier=_is_yes(values.get("identifier", "")),
                branching_logic=straighten(
                    _CONTROL.sub(" ", values.get("branching_logic", ""))
                ).strip(),
                required=_is_yes(values.get("required_field", "")),
                custom_alignment=values.get("custom_alignment", "").strip(),
                question_number=values.get("question_number", "").strip(),
                matrix_group=values.get("matrix_group_name", "").strip(),
                matrix_ranking=values.get("matrix_ranking", "").strip(),
                annotation=values.get("field_annotation", "").strip(),
            )
        )
    if problems:
        raise DictionaryError(problems)
    if not fields:
        raise DictionaryError([Problem(None, "file", "", "", "the dictionary has no fields")])
    notes = () if encoding != "cp1252" else ("read as Windows-1252 (not valid UTF-8)",)
    return DataDictionary(tuple(fields), encoding, notes)


def _records(text: str) -> list[tuple[int, list[str]]]:
    """CSV records with the line each starts on (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, list[str]]] = []
    start = 1
    for cells in reader:
        records.append((start, cells))
        start = reader.line_num + 1
    return records
