"""Tamper evidence for the audit trail: a keyed hash chain.

Format 2 (every record written since the keyed chain): ``record_hash = HMAC-SHA256(key,
canonical JSON of EVERY column of the record except record_hash itself)`` -- id, time, actor
id and label, action, study id, object, before/after, IP address, prev_hash, key id and
format. The key (AUDIT_HMAC_KEY, see ``audit.keys``) is not in the database, so whoever
controls the database can neither edit a record nor forge a new one that verifies.

Format 1 (records written before): ``sha256`` of the content without the actor and study ids
and without a key. Those records keep their hashes (rewriting them would launder any change
made before the upgrade); the upgrade appends one format-2 ``seal`` record whose signed
``after`` holds the number of format-1 records, the last one's hash and a digest of their
ids, actor ids and study ids, so from then on nothing in them can change unnoticed. A
format-1 record after a format-2 one, or format-1 records without a seal, are forgeries.

What the chain cannot show by itself: the newest records cut off (or the whole table
emptied) together with the chain head. ``audit_anchor`` writes the head outside the
database and ``verify_audit --anchor`` compares against it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fibrosurvey.web.audit.keys import AuditKey

__all__ = [
    "GENESIS",
    "KEYED",
    "LEGACY",
    "BrokenLink",
    "ChainSummary",
    "LegacySeal",
    "canonical_json",
    "keyed_digest",
    "legacy_digest",
    "record_digest",
    "verify_chain",
]

GENESIS = "0" * 64
LEGACY = 1
KEYED = 2
SEAL_ACTION = "seal"

LEGACY_HASHED_FIELDS = (
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
# Every column but record_hash (the output). Adding a column to AuditRecord means adding it
# here under a new format number: test_every_column_is_covered_by_the_hash checks.
KEYED_FIELDS = (
    "id",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "study_id",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "ip_address",
    "prev_hash",
    "key_id",
    "hash_version",
)


def canonical_json(values: dict[str, Any]) -> str:
    return json.dumps(
        values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def _normalised(record: Any, fields: Iterable[str]) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in fields}
    values["at"] = record.at.isoformat(timespec="microseconds")
    if values["ip_address"] and ":" in values["ip_address"]:
        # The database stores IPv6 addresses in their normalised form; hash that form.
        from django.utils.ipv6 import clean_ipv6_address

        values["ip_address"] = clean_ipv6_address(values["ip_address"])
    return values


def legacy_digest(record: Any, prev_hash: str) -> str:
    """Format 1: unkeyed SHA-256, without id, actor id and study id."""
    values = _normalised(record, LEGACY_HASHED_FIELDS)
    values["prev_hash"] = prev_hash
    return hashlib.sha256(canonical_json(values).encode("utf-8")).hexdigest()


# The name the format-1 migration (0002) imports.
record_digest = legacy_digest


def keyed_digest(record: Any, key: AuditKey) -> str:
    """Format 2: HMAC-SHA256 over every column (record.prev_hash and key_id already set)."""
    message = canonical_json(_normalised(record, KEYED_FIELDS)).encode("utf-8")
    return hmac.new(key.secret, message, hashlib.sha256).hexdigest()


class LegacySeal:
    """Accumulates what format-1 hashes leave out (ids, actor ids, study ids)."""

    def __init__(self) -> None:
        self.count = 0
        self.last_hash = GENESIS
        self._digest = hashlib.sha256()

    def add(self, record: Any) -> None:
        self.count += 1
        self.last_hash = record.record_hash
        line = f"{record.id},{record.actor_id},{record.study_id},{record.record_hash}\n"
        self._digest.update(line.encode("ascii"))

    def summary(self) -> dict[str, Any]:
        return {
            "legacy_records": self.count,
            "legacy_last_hash": self.last_hash,
            "legacy_digest": self._digest.hexdigest(),
        }


@dataclass(frozen=True)
class BrokenLink:
    record_id: int
    reason: str

    def __str__(self) -> str:
        return f"audit record {self.record_id}: {self.reason}"


@dataclass
class ChainSummary:
    checked: int = 0
    legacy: int = 0
    last_id: int | None = None
    last_hash: str = GENESIS
    # record id -> chain position (1-based) and hash, only for ids asked for (anchors).
    positions: dict[int, tuple[int, str]] | None = None


def verify_chain(
    records: Iterable[Any], keys: dict[str, AuditKey], watch_ids: set[int] | None = None
) -> tuple[ChainSummary, BrokenLink | None]:
    """Walk records in id order; the summary and the first broken link (or None)."""
    summary = ChainSummary(positions={})
    seal = LegacySeal()
    previous = GENESIS
    newest_rank: int | None = None
    for record in records:
        summary.checked += 1
        broken = _check_one(record, previous, keys, seal, newest_rank)
        if broken is not None:
            return summary, broken
        if record.hash_version == KEYED:
            newest_rank = keys[record.key_id].rank
        if watch_ids and record.id in watch_ids:
            assert summary.positions is not None
            summary.positions[record.id] = (summary.checked, record.record_hash)
        previous = record.record_hash
        summary.last_id, summary.last_hash = record.id, record.record_hash
    summary.legacy = seal.count
    if seal.count and newest_rank is None:
        return summary, BrokenLink(
            summary.last_id or 0,
            f"{seal.count} unsigned (format 1) records and no seal record: "
            "forged, or `migrate` has not been run since the upgrade",
        )
    return summary, None


def _check_one(
    record: Any,
    previous: str,
    keys: dict[str, AuditKey],
    seal: LegacySeal,
    newest_rank: int | None,
) -> BrokenLink | None:
    if record.prev_hash != previous:
        return BrokenLink(
            record.id,
            "prev_hash does not match the previous record (a record was removed or reordered)",
        )
    if record.hash_version == LEGACY:
        if newest_rank is not None:
            return BrokenLink(record.id, "an unsigned (format 1) record after signed ones: forged")
        if legacy_digest(record, record.prev_hash) != record.record_hash:
            return BrokenLink(record.id, "content does not match its hash (edited)")
        seal.add(record)
        return None
    if record.hash_version != KEYED:
        return BrokenLink(record.id, f"unknown hash format {record.hash_version!r}")
    key = keys.get(record.key_id)
    if key is None:
        return BrokenLink(
            record.id,
            f"signed with key id {record.key_id!r}, which is not in AUDIT_HMAC_KEY "
            "(forged, or an old key was removed from the list)",
        )
    if newest_rank is not None and key.rank > newest_rank:
        return BrokenLink(record.id, "signed with an older key than the record before it: forged")
    if not hmac.compare_digest(keyed_digest(record, key), record.record_hash):
        return BrokenLink(record.id, "content does not match its signature (edited or forged)")
    unsealed = record.action != SEAL_ACTION or record.after != seal.summary()
    if newest_rank is None and seal.count and unsealed:
        return BrokenLink(
            record.id,
            f"the {seal.count} unsigned (format 1) records before it do not match the "
            "seal written at the upgrade (an id, actor or study was changed)",
        )
    return None
