"""Settings for the test suite (pytest's DJANGO_SETTINGS_MODULE): the production settings,
DEBUG off, with fixed throw-away keys, a fast password hasher and plain HTTP on localhost.

Production never reads this module; ``fibrosurvey.web.settings`` alone refuses to start
without its keys.
"""

from __future__ import annotations

import os

# The production module reads its keys when imported; give it throw-away ones (an explicit
# key in the environment still wins).
os.environ.setdefault(
    "SECRET_KEY", "test-only-insecure-secret-key-do-not-use-in-production-9876543210"
)
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "o0b8Jm3Y7JrS5W0hmZl7oE0J9uS0Vf3Qw3zV3vQvY9c=")
os.environ.setdefault("AUDIT_HMAC_KEY", "test-only-audit-hmac-key-do-not-use-in-production-0123")
os.environ.setdefault("BACKUP_ENCRYPTION_KEY", "dGVzdC1vbmx5LWJhY2t1cC1rZXktZG8tbm90LXVzZS0=")

from fibrosurvey.web.settings import *  # noqa: F403
from fibrosurvey.web.settings import PASSWORD_HASHERS

# Argon2 costs ~50 ms per login; the suite logs in hundreds of times.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

# The test client and the live server speak plain HTTP to localhost.
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]
SECURE_SSL_REDIRECT = False
SECURE_PROXY_SSL_HEADER = None
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

# No collectstatic before a test run: serve straight from the app directories.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Process-local counters, emptied before each test (tests/web/conftest.py); never a shared
# Redis from the environment.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
