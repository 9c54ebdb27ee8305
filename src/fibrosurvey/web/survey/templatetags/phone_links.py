"""Phone numbers as ``tel:`` links, so a participant on a phone can call with one tap.

``{{ text|phone_links }}`` escapes free text (a translated sentence, a study's safety contact)
and links every phone number in it; ``{{ number|tel_link }}`` links one number held alone (a
participant's phone on a staff page).

A phone number here is 3 or more digits, optionally starting with ``+``, in groups separated
by single spaces, hyphens or parentheses. Clock times and ranges (``9:00-17:00``), decimals
and ISO dates are not numbers to call: a run of digits touching a colon, a letter or a decimal
point is left alone, and so is ``2026-03-02``.
"""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

__all__ = ["PHONE_NUMBER", "phone_links", "tel_href", "tel_link"]

register = template.Library()

PHONE_NUMBER = re.compile(
    r"(?<![\w:.,/+\-])"  # not the tail of a word, time, decimal, date or longer number
    r"(\+?\(?\d[\d()]*(?:[ \-]\(?\d[\d()]*)*)"
    r"(?![\w:/\-]|[.,]\d)"  # not the head of a time, a word or a decimal
)
_MIN_DIGITS = 3
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def tel_href(number: str) -> str:
    """``tel:`` URL of a written number: its digits, and a leading ``+`` if it has one."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return f"tel:{'+' if number.strip().startswith('+') else ''}{digits}"


def _is_phone_number(text: str) -> bool:
    return sum(ch.isdigit() for ch in text) >= _MIN_DIGITS and not _ISO_DATE.fullmatch(text)


@register.filter(is_safe=True)
def tel_link(number: object) -> SafeString | str:
    """One phone number as a link; empty input stays empty (the template shows a dash)."""
    text = str(number or "").strip()
    if not text:
        return ""
    return format_html('<a href="{}">{}</a>', tel_href(text), text)


@register.filter(is_safe=True)
def phone_links(text: object) -> SafeString:
    """Free text, escaped, with every phone number in it a ``tel:`` link."""
    raw = str(text or "")
    parts: list[str] = []
    position = 0
    for match in PHONE_NUMBER.finditer(raw):
        if not _is_phone_number(match.group(1)):
            continue
        parts.append(escape(raw[position : match.start(1)]))
        parts.append(tel_link(match.group(1)))
        position = match.end(1)
    parts.append(escape(raw[position:]))
    # Safe: every piece above went through escape() or format_html().
    return mark_safe("".join(parts))
