"""The Spanish catalogue is complete and its compiled .mo matches the .po (no runtime tools)."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

LOCALE = Path(__file__).resolve().parents[2] / "src/fibrosurvey/web/locale/es/LC_MESSAGES"


def _entries() -> list[tuple[str, str]]:
    """(msgid, first msgstr) of every active entry in django.po."""
    text = LOCALE.joinpath("django.po").read_text(encoding="utf-8")
    entries = []
    for block in text.split("\n\n"):
        if block.lstrip().startswith("#~"):
            continue  # obsolete
        lines = [line for line in block.splitlines() if not line.startswith("#")]
        current, parts = None, {"msgid": "", "msgstr": ""}
        for line in lines:
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[0\])?|msgstr\[\d\]) (".*")$', line)
            if match:
                key = match.group(1)
                current = (
                    "msgstr"
                    if key in ("msgstr", "msgstr[0]")
                    else ("msgid" if key == "msgid" else None)
                )
                if current:
                    parts[current] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and current:
                parts[current] += ast.literal_eval(line)
        if parts["msgid"]:
            entries.append((parts["msgid"], parts["msgstr"]))
    return entries


def test_every_message_has_a_spanish_translation():
    entries = _entries()
    assert len(entries) > 150
    untranslated = [msgid for msgid, msgstr in entries if not msgstr.strip()]
    assert untranslated == []


def test_compiled_catalogue_matches_the_source():
    with LOCALE.joinpath("django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [msgid for msgid, msgstr in _entries() if compiled.gettext(msgid) != msgstr]
    assert stale == []
