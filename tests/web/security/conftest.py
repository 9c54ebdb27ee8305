"""Security test helpers: a database fingerprint (to prove "nothing changed") and a
counter of fuzz cases, printed at the end of the run."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

FUZZ_CASES: Counter[str] = Counter()

# Tables whose rows legitimately change on any request (sessions, lockout bookkeeping).
_VOLATILE = {"django_session", "axes_accessattempt", "axes_accesslog", "axes_accessfailurelog"}


def db_fingerprint() -> str:
    """SHA-256 over every row of every application table (ordered by primary key)."""
    from django.apps import apps

    digest = hashlib.sha256()
    for model in sorted(apps.get_models(), key=lambda m: m._meta.db_table):
        if model._meta.db_table in _VOLATILE or not model._meta.managed:
            continue
        digest.update(model._meta.db_table.encode())
        for row in model._default_manager.order_by("pk").values_list():
            digest.update(repr(row).encode())
    return digest.hexdigest()


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    if FUZZ_CASES:
        terminalreporter.section("fuzz cases tried")
        for name, count in sorted(FUZZ_CASES.items()):
            terminalreporter.write_line(f"{name}: {count}")
        terminalreporter.write_line(f"total: {sum(FUZZ_CASES.values())}")


@pytest.fixture
def fingerprint():
    return db_fingerprint
