"""Checking the whole trail, and anchors: the chain's head written outside the database.

The signed chain shows any edit, insertion or removal in the middle, but not the newest
records cut off together with the chain head, nor an emptied table. An anchor -- one JSON
line ``{"at", "length", "last_id", "last_hash", "key_id", "mac"}`` appended to a file (or
printed for a log shipper) by ``audit_anchor`` -- records how long the chain was; a later
``verify_audit --anchor FILE`` insists the chain still contains that record at that
position with that hash. The line is signed with the audit key, so the database owner
cannot write a shorter anchor either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection
from django.utils import timezone

from fibrosurvey.web.audit.chain import ChainSummary, canonical_json, verify_chain
from fibrosurvey.web.audit.keys import AuditKey, audit_keys, signing_key
from fibrosurvey.web.audit.models import AuditChainHead, AuditRecord
from fibrosurvey.web.audit.triggers import missing_triggers

__all__ = ["AuditCheckFailed", "check_trail", "make_anchor", "read_anchors"]


class AuditCheckFailed(Exception):
    """The trail does not verify; the message names the first problem."""


@dataclass(frozen=True)
class Anchor:
    line: int
    at: str
    length: int
    last_id: int | None
    last_hash: str


def _anchor_mac(values: dict[str, Any], key: AuditKey) -> str:
    body = {name: values[name] for name in ("at", "length", "last_id", "last_hash", "key_id")}
    return hmac.new(key.secret, canonical_json(body).encode(), hashlib.sha256).hexdigest()


def read_anchors(path: Path, keys: dict[str, AuditKey]) -> list[Anchor]:
    if not path.exists():
        raise AuditCheckFailed(f"anchor file {path} does not exist")
    anchors = []
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if not text.strip():
            continue
        try:
            values = json.loads(text)
            key = keys.get(values["key_id"])
            valid = key is not None and hmac.compare_digest(
                _anchor_mac(values, key), str(values["mac"])
            )
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            raise AuditCheckFailed(
                f"{path} line {number}: not an anchor signed with AUDIT_HMAC_KEY "
                "(the anchor file was edited, or a key was removed from the list)"
            )
        anchors.append(
            Anchor(number, values["at"], values["length"], values["last_id"], values["last_hash"])
        )
    return anchors


def check_trail(anchors: list[Anchor] | None = None) -> ChainSummary:
    """Verify triggers, chain, head and anchors; raise AuditCheckFailed at the first problem."""
    missing = missing_triggers(connection)
    if missing:
        raise AuditCheckFailed(
            f"the append-only trigger(s) {', '.join(missing)} are missing or disabled on "
            "audit_auditrecord: someone with the owner role removed them; run `migrate` "
            "to reinstall only after finding out why"
        )
    keys = audit_keys()
    watched = {a.last_id for a in anchors or [] if a.last_id is not None}
    records = AuditRecord.objects.order_by("id").iterator(chunk_size=2000)
    summary, broken = verify_chain(records, keys, watched)
    if broken is not None:
        raise AuditCheckFailed(
            f"audit chain broken at record {broken.record_id} "
            f"(record {summary.checked} in order): {broken.reason}"
        )
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and summary.checked and head.last_hash != summary.last_hash:
        raise AuditCheckFailed(
            "audit chain broken at the end: the newest records were removed "
            f"(the chain head expects {head.last_hash[:12]}…, "
            f"the last record has {summary.last_hash[:12]}…)"
        )
    if head is not None and head.length != summary.checked:
        raise AuditCheckFailed(
            f"audit chain has {summary.checked} records but {head.length} were written: "
            "records were removed"
        )
    for anchor in anchors or []:
        _check_anchor(anchor, summary)
    return summary


def _check_anchor(anchor: Anchor, summary: ChainSummary) -> None:
    if anchor.length == 0:
        return
    found = (summary.positions or {}).get(anchor.last_id or -1)
    if found != (anchor.length, anchor.last_hash):
        raise AuditCheckFailed(
            f"the anchor of {anchor.at} (line {anchor.line}) says the chain had "
            f"{anchor.length} records ending with record {anchor.last_id}; the trail now "
            f"has {summary.checked} records and "
            + ("not that record" if found is None else f"it at position {found[0]}")
            + ": records were removed or the trail was rebuilt"
        )


def make_anchor() -> str:
    """Verify the trail, then return the signed anchor line for its current head."""
    summary = check_trail()
    key = signing_key()
    values: dict[str, Any] = {
        "at": timezone.now().isoformat(timespec="seconds"),
        "length": summary.checked,
        "last_id": summary.last_id,
        "last_hash": summary.last_hash,
        "key_id": key.key_id,
    }
    values["mac"] = _anchor_mac(values, key)
    return json.dumps(values, sort_keys=True)
