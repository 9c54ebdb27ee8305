"""Reading a lab results CSV: size and column limits, UTF-8 without NUL, a header that names
each column once and is not absurdly wide, at least one row. Every cell is read as text (the
core parses numbers). Any problem -> :class:`LabImportError`, before anything is stored."""

from __future__ import annotations

import csv
import io
from collections import Counter

import polars as pl

from fibrosurvey.biomarkers import LAB_OPTIONAL_COLUMNS, LAB_REQUIRED_COLUMNS
from fibrosurvey.problems import Problem

__all__ = [
    "LAB_COLUMNS",
    "MAX_LAB_COLUMNS",
    "MAX_LAB_FILE_BYTES",
    "LabImportError",
    "read_lab_csv",
]

LAB_COLUMNS = (*LAB_REQUIRED_COLUMNS, *LAB_OPTIONAL_COLUMNS)
MAX_LAB_FILE_BYTES = 5_000_000
# A lab file has about 20 known columns; extra columns are ignored, but a header of tens of
# thousands of them only costs CPU (the CSV reader's time grows with the width).
MAX_LAB_COLUMNS = 200


class LabImportError(ValueError):
    """The file was rejected; ``problems`` lists every problem (nothing was imported)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = "; ".join(
            f"row {p.row} {p.column}: {p.message} (allowed: {p.allowed})" for p in problems[:5]
        )
        super().__init__(f"{len(problems)} problem(s), nothing imported: {shown}")


def read_lab_csv(content: bytes | str) -> pl.DataFrame:
    data = content.encode("utf-8") if isinstance(content, str) else content
    if len(data) > MAX_LAB_FILE_BYTES:
        raise LabImportError(
            [Problem(None, "file", f"{len(data)} bytes", "at most 5 MB", "file too large")]
        )
    if b"\x00" in data:  # no text cell holds NUL; PostgreSQL text cannot store it either
        raise LabImportError(
            [
                Problem(
                    None,
                    "file",
                    "NUL byte",
                    "UTF-8 text without NUL characters",
                    "not a text CSV file; save it as CSV UTF-8",
                )
            ]
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise LabImportError(
            [Problem(None, "file", "", "UTF-8 text", "not UTF-8; save it as CSV UTF-8")]
        ) from None
    _check_header(data)
    try:
        # Every cell as text: the core parses and reports numbers itself.
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False, truncate_ragged_lines=False)
    except Exception as error:  # polars raises several error types for malformed CSV
        raise LabImportError(
            [
                Problem(
                    None,
                    "file",
                    str(error).splitlines()[0][:200],
                    "comma-separated UTF-8 with one header row",
                    "cannot be read as CSV",
                )
            ]
        ) from None
    names = [c.strip().lower() for c in frame.columns]
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))
    if frame.height == 0:
        raise LabImportError(
            [Problem(None, "file", "", "at least one data row", "the file has no rows")]
        )
    return frame


def _header_cells(header: bytes) -> list[str]:
    try:
        return next(csv.reader([header.decode("utf-8")]), [])
    except csv.Error as error:  # e.g. a name longer than the csv module's field limit
        raise LabImportError(
            [
                Problem(
                    None,
                    "header",
                    str(error)[:200],
                    "comma-separated column names",
                    "the header cannot be read as CSV",
                )
            ]
        ) from None


def _check_header(data: bytes) -> None:
    """Refuse a header wider than MAX_LAB_COLUMNS or naming a column twice, before the CSV
    reader sees the file (its time grows with the width; it renames exact repeats silently).
    Linear in the header length."""
    header = data.split(b"\n", 1)[0].removeprefix(b"\xef\xbb\xbf").rstrip(b"\r")
    if header.count(b",") >= MAX_LAB_COLUMNS:
        # Commas may be quoted inside a name: count the header's cells properly.
        width = len(_header_cells(header))
        if width > MAX_LAB_COLUMNS:
            raise LabImportError(
                [
                    Problem(
                        None,
                        "header",
                        f"{width} columns",
                        f"at most {MAX_LAB_COLUMNS} columns "
                        f"({', '.join(LAB_REQUIRED_COLUMNS)}, ...)",
                        f"the header has more than {MAX_LAB_COLUMNS} columns",
                    )
                ]
            )
    names = [name.strip().lower() for name in _header_cells(header)]
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise LabImportError(
            [
                Problem(
                    None,
                    "header",
                    ", ".join(repr(name) for name in repeated),
                    "each column name once",
                    "the header names a column more than once (case and spaces ignored)",
                )
            ]
        )
