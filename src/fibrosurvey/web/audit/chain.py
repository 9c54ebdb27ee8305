"""Tamper evidence for the audit trail: each record carries the SHA-256 of the previous one.

``record_hash = sha256(canonical JSON of the record's content + prev_hash)``. Inserts are
serialised on the single ``AuditChainHead`` row (an UPDATE takes its row lock on
PostgreSQL and the write lock on SQLite), so the chain is linear even under concurrent
requests. ``verify_chain`` walks the trail in id order and reports the first broken link.

The nullable foreign keys (actor, study) are left out of the hash on purpose: deleting a
user or a study sets them to NULL (on_delete=SET_NULL), which must not look like tampering;
``actor_label``, the object fields, before/after and the time are covered.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

__all__ = ["GENESIS", "BrokenLink", "canonical_json", "record_digest", "verify_chain"]

GENESIS = "0" * 64
HASHED_FIELDS = (
    "at",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "ip_address",
)


def canonical_json(values: dict[str, Any]) -> str:
    return json.dumps(
        values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def record_digest(record: Any, prev_hash: str) -> str:
    values = {name: getattr(record, name) for name in HASHED_FIELDS}
    values["at"] = record.at.isoformat(timespec="microseconds")
    if values["ip_address"] and ":" in values["ip_address"]:
        # The database stores IPv6 addresses in their normalised form; hash that form.
        from django.utils.ipv6 import clean_ipv6_address

        values["ip_address"] = clean_ipv6_address(values["ip_address"])
    values["prev_hash"] = prev_hash
    return hashlib.sha256(canonical_json(values).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    record_id: int
    reason: str

    def __str__(self) -> str:
        return f"audit record {self.record_id}: {self.reason}"


def verify_chain(records: Any) -> tuple[int, BrokenLink | None]:
    """(records checked, first broken link or None) for records in id order."""
    previous = GENESIS
    checked = 0
    for record in records:
        checked += 1
        if record.prev_hash != previous:
            return checked, BrokenLink(
                record.pk,
                "prev_hash does not match the previous record (a record was removed or reordered)",
            )
        if record_digest(record, record.prev_hash) != record.record_hash:
            return checked, BrokenLink(record.pk, "content does not match its hash (edited)")
        previous = record.record_hash
    return checked, None
