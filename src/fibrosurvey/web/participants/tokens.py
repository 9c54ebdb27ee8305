"""Survey link tokens: random, shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hmac
import secrets

from fibrosurvey.web.crypto import hash_token

__all__ = ["hash_token", "new_token", "token_matches"]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_matches(token: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented token with a stored hash."""
    return hmac.compare_digest(hash_token(token), stored_hash)
