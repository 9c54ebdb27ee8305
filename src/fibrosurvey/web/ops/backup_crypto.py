"""Backup encryption: BACKUP_ENCRYPTION_KEY, streaming AES-256-GCM, manifest HMAC.

BACKUP_ENCRYPTION_KEY holds one or more keys (32 random bytes, URL-safe base64 -- the same
form as a Fernet key), comma-separated, newest first: the newest encrypts, every listed key
decrypts (a manifest names its key id). Two subkeys are derived from each key with HKDF:
one encrypts, one authenticates the manifest.

Stream format (never the whole dump in memory, never plaintext on disk):
``MAGIC | nonce prefix (8 bytes) | frames``; a frame is a 4-byte big-endian header (bit 31:
last frame, bits 0-30: ciphertext length) and the AES-GCM ciphertext of up to 1 MiB. Frame
``n`` uses nonce ``prefix | n`` and authenticates the magic, the prefix, ``n`` and the
last-frame bit, so frames cannot be reordered, dropped, swapped between files or cut off.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

__all__ = [
    "BackupKey",
    "BackupKeyError",
    "DecryptionFailed",
    "backup_keys",
    "decrypt_stream",
    "encrypt_stream",
]

MAGIC = b"FSBACKUP-AESGCM-1\n"
CHUNK = 1 << 20
_LAST = 0x8000_0000


class BackupKeyError(ValueError):
    """BACKUP_ENCRYPTION_KEY is missing or malformed; the message says how to make one."""


class DecryptionFailed(ValueError):
    """The encrypted file was altered, cut short or made with another key."""


@dataclass(frozen=True)
class BackupKey:
    key_id: str
    encryption: bytes
    authentication: bytes

    def mac(self, message: bytes) -> str:
        return hmac.new(self.authentication, message, hashlib.sha256).hexdigest()


def _derive(raw: bytes, purpose: bytes) -> bytes:
    return HKDF(hashes.SHA256(), length=32, salt=None, info=purpose).derive(raw)


def backup_keys() -> list[BackupKey]:
    """The configured keys, newest first (BackupKeyError when none or malformed)."""
    value = getattr(settings, "BACKUP_ENCRYPTION_KEY", "") or ""
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts:
        raise BackupKeyError(
            "BACKUP_ENCRYPTION_KEY is not set: backups are encrypted with it. Make one with "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key()"
            ".decode())' and keep a copy away from the backups"
        )
    keys = []
    for number, part in enumerate(parts, start=1):
        try:
            raw = base64.urlsafe_b64decode(part.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError):
            raw = b""
        if len(raw) != 32:
            raise BackupKeyError(
                f"BACKUP_ENCRYPTION_KEY: key {number} is not 32 bytes of URL-safe base64"
            )
        keys.append(
            BackupKey(
                key_id=hashlib.sha256(b"fibrosurvey backup key id\x00" + raw).hexdigest()[:16],
                encryption=_derive(raw, b"fibrosurvey backup encryption"),
                authentication=_derive(raw, b"fibrosurvey backup manifest"),
            )
        )
    return keys


def _aad(prefix: bytes, counter: int, last: bool) -> bytes:
    return MAGIC + prefix + struct.pack(">IB", counter, 1 if last else 0)


def encrypt_stream(source: IO[bytes], target: IO[bytes], key: BackupKey) -> str:
    """Encrypt ``source`` into ``target``; return the plaintext's SHA-256."""
    cipher = AESGCM(key.encryption)
    prefix = os.urandom(8)
    plain_digest = hashlib.sha256()
    target.write(MAGIC + prefix)
    counter = 0
    block = source.read(CHUNK)
    while True:
        following = source.read(CHUNK) if block else b""
        last = not following
        plain_digest.update(block)
        nonce = prefix + struct.pack(">I", counter)
        sealed = cipher.encrypt(nonce, block, _aad(prefix, counter, last))
        target.write(struct.pack(">I", len(sealed) | (_LAST if last else 0)) + sealed)
        if last:
            return plain_digest.hexdigest()
        counter += 1
        block = following


def decrypt_stream(source: IO[bytes], target: IO[bytes], key: BackupKey) -> str:
    """Decrypt ``source`` into ``target``; return the plaintext's SHA-256."""
    cipher = AESGCM(key.encryption)
    head = source.read(len(MAGIC) + 8)
    if len(head) != len(MAGIC) + 8 or not head.startswith(MAGIC):
        raise DecryptionFailed("not an encrypted fibrosurvey backup file")
    prefix = head[len(MAGIC) :]
    plain_digest = hashlib.sha256()
    counter = 0
    while True:
        header = source.read(4)
        if len(header) != 4:
            raise DecryptionFailed("the file is cut short (no final block)")
        (word,) = struct.unpack(">I", header)
        last, length = bool(word & _LAST), word & ~_LAST
        if length > CHUNK + 16:
            raise DecryptionFailed(f"block {counter} is malformed")
        sealed = source.read(length)
        nonce = prefix + struct.pack(">I", counter)
        try:
            block = cipher.decrypt(nonce, sealed, _aad(prefix, counter, last))
        except InvalidTag:
            raise DecryptionFailed(
                f"block {counter} does not authenticate: the file was altered or the key is wrong"
            ) from None
        plain_digest.update(block)
        target.write(block)
        if last:
            if source.read(1):
                raise DecryptionFailed("data after the final block")
            return plain_digest.hexdigest()
        counter += 1
