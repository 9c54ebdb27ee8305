"""The repository stands alone: a fresh clone has no ../shared, so no document may send a
newcomer there, and every file the docs name as the place of a rule exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_no_document_points_outside_the_repository(document: Path) -> None:
    assert "../shared" not in document.read_text(encoding="utf-8")


def test_every_source_path_named_in_the_architecture_exists() -> None:
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = set(
        re.findall(
            r"`((?:web/|src/|stats/|analysis/|report/|scoring/|fhir/|instruments/)"
            r"[\w/.]*|[\w]+\.py)`",
            text,
        )
    )
    assert named, "the architecture names no source paths"
    package = ROOT / "src" / "fibrosurvey"
    missing = [
        path
        for path in named
        if not any((base / path).exists() for base in (ROOT, package, package / "web"))
    ]
    assert missing == []
