"""One-line text: names that refuse control characters, and e-mail subjects built safely.

A study name travels into e-mail subjects, CSV exports and page titles. A newline in it made
Django refuse every invitation e-mail (BadHeaderError: a 500 for whoever sent them), so names
refuse control characters where they are typed (form) and where they are stored (service),
and subjects are flattened to one line whatever their parts hold.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

__all__ = ["control_characters", "one_line", "refuse_control_characters"]

# Cc: C0/C1 controls (NUL, tab, CR, LF, ESC, DEL...); Zl/Zp: the Unicode line and paragraph
# separators, which mail and CSV readers also treat as line breaks.
_REFUSED_CATEGORIES = {"Cc", "Zl", "Zp"}


def control_characters(text: str) -> list[str]:
    """The distinct control characters in ``text``, as escapes (e.g. ``\\n``), in order."""
    found: list[str] = []
    for char in text:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            shown = char.encode("unicode_escape").decode("ascii")
            if shown not in found:
                found.append(shown)
    return found


def refuse_control_characters(value: str) -> None:
    """Form/model validator: a one-line name holds no control character."""
    found = control_characters(value)
    if found:
        raise ValidationError(
            _("Remove the control characters (%(chars)s); a name is one line of text.")
            % {"chars": ", ".join(found)},
            code="control_characters",
        )


def one_line(text: str) -> str:
    """``text`` with every run of whitespace or control characters made one space."""
    cleaned = "".join(
        " " if unicodedata.category(char) in _REFUSED_CATEGORIES else char for char in text
    )
    return " ".join(cleaned.split())
