"""The access-matrix helper both matrices use (pages here and in tests/web/api/).

A row names one endpoint and the status every persona must get, written out in full so a
change in the rules shows in the diff. ``check`` makes the request and asserts the status;
for pages, the anonymous visitor must be sent to the login page, not merely get a 302.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

# Expected status per study member, by who holds the capability.
ALL_MEMBERS = {"alice": 200, "carol": 200, "anna": 200, "vera": 200, "sam": 200}
OWNER_ONLY = {"alice": 200, "carol": 403, "anna": 403, "vera": 403, "sam": 403}
ENROLLERS = {"alice": 200, "carol": 200, "anna": 403, "vera": 403, "sam": 200}
# A site-limited enroller (sam, south) asking for a north object: 404.
ENROLLERS_NORTH = ENROLLERS | {"sam": 404}
ANALYSTS = {"alice": 200, "carol": 403, "anna": 200, "vera": 403, "sam": 403}
READERS = {"alice": 200, "carol": 200, "anna": 200, "vera": 403, "sam": 200}
READERS_NORTH = READERS | {"sam": 404}


def as_status(expected: dict[str, int], ok: int) -> dict[str, int]:
    """The same matrix where the allowed answer is ``ok`` (302 after a POST, 201, ...)."""
    return {persona: (ok if status == 200 else status) for persona, status in expected.items()}


def row(
    name: str,
    method: str,
    target: str,
    args: list[str],
    expected: dict[str, int],
    *,
    oscar: int = 404,
    anonymous: int = 302,
    body: Any = None,
) -> tuple[str, str, str, list[str], dict[str, int], Any]:
    """(name, method, URL name or path, fixture names for its arguments, statuses, body).

    oscar, the owner of another study only, gets 404 on anything of ``study`` by default.
    """
    return (name, method, target, args, expected | {"oscar": oscar, "anonymous": anonymous}, body)


def ids(rows: list[tuple[Any, ...]]) -> list[str]:
    return [r[0] for r in rows]


def consume(response: Any) -> None:
    """Read a streamed response to the end: the test client then closes it (and any
    temporary file) without closing the test's database connection."""
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)


def check(response: Any, persona: str, expected: dict[str, int], label: str) -> None:
    consume(response)
    assert response.status_code == expected[persona], f"{persona}: {label}"
    if persona == "anonymous" and response.status_code == 302:
        assert response.url.startswith(reverse("accounts:login")), f"{persona}: {label}"
