"""The audit trail's HMAC keys (AUDIT_HMAC_KEY): secrets the database never holds.

AUDIT_HMAC_KEY lists one or more secrets, comma-separated, newest first. The newest signs
new records; every listed key verifies. Each record stores the id of the key that signed it
(a short digest of the key, so the id reveals nothing and needs no naming scheme).

Rotation: put a new secret first (NEW,OLD) and restart; keep OLD in the list for as long as
records signed with it must verify (for ever, normally: it is a verification key now). A
record signed with an older key after one signed with a newer key is reported as forged,
so a leaked retired key cannot be used to append records.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["MIN_SECRET_LENGTH", "AuditKey", "audit_keys", "key_id_of", "signing_key"]

MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class AuditKey:
    key_id: str
    secret: bytes
    rank: int  # 0 is the newest key


def key_id_of(secret: bytes) -> str:
    return hashlib.sha256(b"fibrosurvey audit key id\x00" + secret).hexdigest()[:16]


def parse_keys(value: str) -> list[AuditKey]:
    secrets = [part.strip() for part in value.split(",") if part.strip()]
    if not secrets:
        raise ImproperlyConfigured(
            "AUDIT_HMAC_KEY is not set: the audit trail is signed with it. Make one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    short = [n for n, secret in enumerate(secrets, start=1) if len(secret) < MIN_SECRET_LENGTH]
    if short:
        raise ImproperlyConfigured(
            f"AUDIT_HMAC_KEY: key {short[0]} is shorter than {MIN_SECRET_LENGTH} characters"
        )
    return [
        AuditKey(key_id_of(secret.encode()), secret.encode(), rank)
        for rank, secret in enumerate(secrets)
    ]


def audit_keys() -> dict[str, AuditKey]:
    """Every configured key by id (ImproperlyConfigured when none is set)."""
    return {key.key_id: key for key in parse_keys(getattr(settings, "AUDIT_HMAC_KEY", ""))}


def signing_key() -> AuditKey:
    return parse_keys(getattr(settings, "AUDIT_HMAC_KEY", ""))[0]
