"""The one rule for the codes that reach de-identified outputs: study codes and site codes.

Both are written verbatim into every export, so they must be pseudonymous labels, not free
text: an e-mail address typed as a study code would otherwise leave the platform in every
file. A code is 1 to 32 ASCII letters, digits, ``-`` and ``_``, starting with a letter or a
digit (a leading ``-``, ``+``, ``=`` or ``@`` makes a spreadsheet run the cell as a formula).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

__all__ = ["CODE_MAX_LENGTH", "CODE_RULE", "code_problem", "validate_code"]

CODE_MAX_LENGTH = 32
CODE_RULE = "1 to 32 letters (A-Z, a-z), digits, - and _, starting with a letter or digit"
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


def code_problem(value: str) -> str:
    """Why ``value`` is not a valid code ("" when it is)."""
    if _CODE.fullmatch(value):
        return ""
    return f"{value[:40]!r} is not a valid code: use {CODE_RULE}"


def validate_code(value: str) -> None:
    """Django validator for study codes and site codes."""
    problem = code_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_code")
