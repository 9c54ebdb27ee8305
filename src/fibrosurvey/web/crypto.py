"""Field-level encryption for contact details (Fernet / MultiFernet), and the one hash of
secret tokens (survey links and API tokens are stored only as this hash).

FIELD_ENCRYPTION_KEY holds one or more Fernet keys separated by commas. The first key
encrypts; every key decrypts, so keys can be rotated: put the new key first, run
``django-admin rotate_encryption_key`` (ops app; re-encrypts in batches), then drop the old key.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Combinable

__all__ = ["EncryptedTextField", "decrypt", "encrypt", "fernet", "hash_token"]


def hash_token(token: str) -> str:
    """What is stored of a secret token. Tokens carry 256 random bits, so an unsalted SHA-256
    cannot be reversed, and a presented token is found by this hash in one indexed lookup."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@cache
def _fernet_for(keys: str) -> MultiFernet:
    parts = [key.strip() for key in keys.split(",") if key.strip()]
    if not parts:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is empty")
    try:
        return MultiFernet([Fernet(key.encode()) for key in parts])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be comma-separated Fernet keys; make one with: "
            "python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from error


def fernet() -> MultiFernet:
    return _fernet_for(settings.FIELD_ENCRYPTION_KEY)


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise ImproperlyConfigured(
            "contact details cannot be decrypted with FIELD_ENCRYPTION_KEY; "
            "the key that encrypted them is missing from the key list"
        ) from None


class EncryptedTextField(models.TextField[str | Combinable, str]):
    """A text column stored as a Fernet token; Python sees plaintext ("" for empty)."""

    description = "Text encrypted at rest with Fernet"

    def from_db_value(
        self, value: str | None, expression: object, connection: BaseDatabaseWrapper
    ) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    # Serialisation (dumpdata, backups) writes the ciphertext, marked, never the plaintext;
    # deserialisation (loaddata, restore) decrypts it, and saving encrypts it again.
    SERIALISED_PREFIX = "fernet:"

    def value_to_string(self, obj: models.Model) -> str:
        value: str = self.value_from_object(obj)
        if value is None or value == "":
            return value
        return self.SERIALISED_PREFIX + encrypt(str(value))

    def to_python(self, value: Any) -> str | None:
        if isinstance(value, str) and value.startswith(self.SERIALISED_PREFIX):
            return decrypt(value[len(self.SERIALISED_PREFIX) :])
        text: str | None = super().to_python(value)
        return text

    def get_prep_value(self, value: Any) -> str | None:
        prepared: str | None = super().get_prep_value(value)
        if prepared is None or prepared == "":
            return prepared
        return encrypt(str(prepared))
