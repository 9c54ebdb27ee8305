"""Bounded JSON parsing: refuse bodies nested deeper than a limit *before* ``json.loads``.

CPython's JSON decoder recurses once per nesting level, so 10,000 nested brackets end in
RecursionError (a 500). Counting the depth first, with string contents removed, costs one
regular-expression pass and turns hostile input into a clear 400.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["JsonTooDeep", "json_depth", "loads_bounded"]

# A JSON string literal (escapes included); its brackets are text, not structure.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class JsonTooDeep(ValueError):
    """The document nests arrays/objects deeper than allowed."""


def json_depth(text: str, limit: int | None = None) -> int:
    """The maximum nesting depth of arrays/objects (stops early once ``limit`` is passed)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = deepest = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if limit is not None and deepest > limit:
                    return deepest
        else:
            depth -= 1
    return deepest


def loads_bounded(text: str | bytes, *, max_depth: int = 64) -> Any:
    """``json.loads`` that raises JsonTooDeep (a ValueError) for documents nested too deeply."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if json_depth(text, max_depth) > max_depth:
        raise JsonTooDeep(f"JSON nested deeper than {max_depth} levels; flatten the document")
    return json.loads(text)
