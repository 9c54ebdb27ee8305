"""Each shared constant is defined once and read from there, never typed again.

A retyped copy drifts: a second ``> 30`` next to "centrifuge" keeps flagging at 30 minutes
after the limit changes. Each rule below is a pattern for a retyped form and the one file
allowed to hold it (the definition); anywhere else in ``src`` it fails this test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
# Generated or translated files are not written by hand.
_SKIPPED_PARTS = {"migrations", "locale", "__pycache__"}
_SUFFIXES = {".py", ".yaml", ".html"}

DATASET = "fibrosurvey/dataset.py"

# (what, pattern of a retyped form, the file holding the one definition or None for nowhere)
RULES: list[tuple[str, str, str | None]] = [
    (
        "the centrifuge limit",
        r"(?i)centrifug[^\n]*[^\w.]30(\.0)?\b|[^\w.]30(\.0)?\b[^\n]*centrifug",
        DATASET,
    ),
    ("a list of the analyte codes", r"[\"']aea[\"']\s*,\s*[\"']twoag[\"']", None),
    (
        "the PHQ-9 item 9 threshold",
        r"phq9_9[^\n]*[<>]=?\s*\d|[\"']phq9[\"']\s*,\s*[\"']phq9_9[\"']",
        None,
    ),
    (
        "the integer pre-analytical columns",
        r"[\"']lab_fasting[\"']\s*,\s*[\"']lab_freeze_thaw[\"']",
        DATASET,
    ),
    (
        "the pre-analytical column names (all of them, or the text ones)",
        r"[\"']lab_matrix[\"']\s*,\s*[\"']lab_tube[\"']\s*,\s*[\"']lab_draw_time[\"']",
        DATASET,
    ),
    ("the type of the biomarker flag columns", r"endswith\(\(\s*[\"']_below_lloq", None),
    ("the token hash", r"sha256\(\s*token\b", "fibrosurvey/web/crypto.py"),
    (
        "the JSON cell (NaN and infinity to null)",
        r"isnan\((\w+)\)\s*or\s*(math\.)?isinf\(\1\)",
        "fibrosurvey/tables.py",
    ),
    ("a problem type", r"class \w*Problem\b", "fibrosurvey/problems.py"),
    ("a problem written as a dict", r"[\"']message[\"']\s*:", None),
]


def _sources() -> list[tuple[str, str]]:
    return [
        (path.relative_to(SRC).as_posix(), path.read_text(encoding="utf-8"))
        for path in sorted(SRC.rglob("*"))
        if path.suffix in _SUFFIXES and not _SKIPPED_PARTS & set(path.parts)
    ]


def retyped_forms(
    sources: list[tuple[str, str]], pattern: str, home: str | None
) -> tuple[list[str], int]:
    """Where ``pattern`` occurs outside ``home`` (as ``file:line``), and how often in it."""
    elsewhere: list[str] = []
    at_home = 0
    for name, text in sources:
        for match in re.finditer(pattern, text):
            if name == home:
                at_home += 1
            else:
                elsewhere.append(f"{name}:{text.count(chr(10), 0, match.start()) + 1}")
    return elsewhere, at_home


@pytest.mark.parametrize(("what", "pattern", "home"), RULES, ids=[r[0] for r in RULES])
def test_the_constant_is_defined_once_and_never_retyped(
    what: str, pattern: str, home: str | None
) -> None:
    elsewhere, at_home = retyped_forms(_sources(), pattern, home)
    assert not elsewhere, (
        f"{what} is typed again in {elsewhere}; import it from {home or 'its home'}"
    )
    assert at_home == (1 if home else 0), f"{what}: expected one definition in {home}"


def test_the_rules_catch_the_forms_they_were_written_for() -> None:
    old_forms = {
        "the centrifuge limit": "delayed = sum(1 for s in x if (s.minutes_to_centrifuge or 0) > 30",
        "a list of the analyte codes": 'ANALYTES = ("aea", "twoag", "pea", "oea", "sea")',
        "the PHQ-9 item 9 threshold": 'flagged = data.filter(pl.col("phq9_9") > 0)',
        "the integer pre-analytical columns": '_INTEGER = {"lab_fasting", "lab_freeze_thaw"}',
        "the pre-analytical column names (all of them, or the text ones)": (
            'for column in ("lab_matrix", "lab_tube", "lab_draw_time", "lab_fasting"):'
        ),
        "the type of the biomarker flag columns": 'column.endswith(("_below_lloq", "_x"))',
        "the token hash": 'return hashlib.sha256(token.encode("utf-8")).hexdigest()',
        "the JSON cell (NaN and infinity to null)": "if math.isnan(v) or math.isinf(v):",
        "a problem type": "class RowProblem:",
        "a problem written as a dict": '{"path": p.path, "value": p.value, "message": p.message}',
    }
    for what, pattern, _home in RULES:
        elsewhere, _ = retyped_forms([("elsewhere.py", old_forms[what])], pattern, None)
        assert elsewhere == ["elsewhere.py:1"], what
    # A different number next to "centrifuge" (a range bound, a template example) is not it.
    assert not re.search(RULES[0][1], '"lab_minutes_to_centrifuge": (0, 10080),')
