"""Django settings, every value read from the environment (see ``fibrosurvey.web.env``).

Defaults suit the embedded demo (DEBUG=1: SQLite in ``var/``, console e-mail, throw-away keys).
Production (DEBUG off) refuses to start without SECRET_KEY and FIELD_ENCRYPTION_KEY, and sets
DATABASE_URL, ALLOWED_HOSTS, CACHE_URL and the e-mail variables. The test suite runs these
settings with its own keys and hashers: ``fibrosurvey.web.settings_test``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.utils.translation import gettext_lazy as _

from fibrosurvey.web.env import (
    ConfigurationError,
    env_bool,
    env_cache,
    env_int,
    env_list,
    env_str,
)

# Lets type-checked generics (ModelAdmin[Study], ModelForm[Site], ...) be written at runtime.
django_stubs_ext.monkeypatch()

PACKAGE_DIR = Path(__file__).resolve().parent
# src/fibrosurvey/web -> repository root (var/ lives there, next to pyproject.toml).
REPO_ROOT = PACKAGE_DIR.parents[2]
VAR_DIR = Path(env_str("FIBROSURVEY_VAR_DIR", str(REPO_ROOT / "var")))

DEBUG = env_bool("DEBUG", default=False)

# --- secrets ------------------------------------------------------------------------------

# Fixed keys for a development server only (DEBUG=1); production must set its own.
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production-0123456789"
_DEV_FIELD_KEY = "o0b8Jm3Y7JrS5W0hmZl7oE0J9uS0Vf3Qw3zV3vQvY9c="

if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET_KEY)
    FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY", _DEV_FIELD_KEY)
else:
    try:
        SECRET_KEY = env_str("SECRET_KEY")
        # One or more Fernet keys, comma-separated; the first encrypts, all decrypt (rotation).
        FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY")
    except ConfigurationError as error:
        raise ConfigurationError(
            f"{error}. Set it, or set DEBUG=1 for a development server with throw-away keys."
        ) from None

# Audit-trail signing keys and the backup key (fibrosurvey.web.audit.keys, ops.backup): kept
# out of the database, several comma-separated, newest first. Production must set them
# (migrate and backup say so); a development server gets throw-away ones.
_DEV_AUDIT_KEY = "dev-only-audit-hmac-key-do-not-use-in-production-0123456789"
_DEV_BACKUP_KEY = "ZGV2LW9ubHktYmFja3VwLWtleS1kby1ub3QtdXNlLTA="
AUDIT_HMAC_KEY = env_str("AUDIT_HMAC_KEY", _DEV_AUDIT_KEY if DEBUG else " ").strip()
BACKUP_ENCRYPTION_KEY = env_str("BACKUP_ENCRYPTION_KEY", _DEV_BACKUP_KEY if DEBUG else " ").strip()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# --- applications and middleware -----------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "fibrosurvey.web.audit",
    "fibrosurvey.web.accounts",
    "fibrosurvey.web.studies",
    "fibrosurvey.web.builder",
    "fibrosurvey.web.participants",
    "fibrosurvey.web.survey",
    "fibrosurvey.web.outbox",
    "fibrosurvey.web.dashboard",
    "fibrosurvey.web.labs",
    "fibrosurvey.web.exports",
    "fibrosurvey.web.analyses",
    "fibrosurvey.web.api",
    # django-ninja serves the API docs' Swagger UI from its own static files (CSP 'self').
    "ninja",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "fibrosurvey.web.ops",
    "fibrosurvey.web.jobs",
    "fibrosurvey.web.recruitment",
]

# Headers and request limits first (they answer before any view); link throttling before
# sessions (a throttled request costs no database work); 2FA after authentication; axes last.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "fibrosurvey.web.ops.middleware.SecurityHeadersMiddleware",
    "fibrosurvey.web.ops.middleware.RequestLimitsMiddleware",
    "fibrosurvey.web.ops.middleware.ParticipantLinkThrottleMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "fibrosurvey.web.accounts.twofactor.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fibrosurvey.web.urls"
WSGI_APPLICATION = "fibrosurvey.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database and cache -------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'fibrosurvey.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        # A persistent connection is checked before reuse, so a database restart costs at
        # most one failed request per worker instead of one per stale connection.
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Rate-limit counters live here: with several server processes use Redis
# (CACHE_URL=redis://127.0.0.1:6379/0), or each process counts on its own.
CACHES = {
    "default": env_cache(
        "CACHE_URL", "locmem://", key_prefix=env_str("CACHE_KEY_PREFIX", "fibrosurvey")
    )
}

# --- authentication -----------------------------------------------------------------------

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Failed-login lockout (django-axes), two limits (fibrosurvey.web.ops.lockout): 5 failures for
# one username from one address, or LOGIN_IP_FAILURE_LIMIT failures from one address across
# all usernames (password spraying), lock that client out for AXES_COOLOFF_MINUTES. Each
# failure is also in the audit trail (audit.signals).
AXES_HANDLER = "fibrosurvey.web.ops.lockout.UsernameAndAddressLockoutHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
LOGIN_IP_FAILURE_LIMIT = env_int("LOGIN_IP_FAILURE_LIMIT", 30)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Enrolling a second-factor device needs the password typed within this many minutes.
TWO_FACTOR_FRESH_LOGIN_MINUTES = env_int("TWO_FACTOR_FRESH_LOGIN_MINUTES", 10)
# Behind a reverse proxy set AXES_IPWARE_META_PRECEDENCE_ORDER via the proxy's header; the
# default (REMOTE_ADDR) is right for gunicorn bound to 127.0.0.1 behind the proxy.
OTP_TOTP_ISSUER = "fibrosurvey"

# Sessions end after 30 minutes without a request (each request renews the cookie).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# --- HTTPS and response headers -----------------------------------------------------------

# Production: HTTPS only, behind a proxy that sets X-Forwarded-Proto. Only a local benchmark
# over plain HTTP turns these off (benchmarks/loadkit.py).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = None if DEBUG else ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
# Survey links carry a secret token in the path: never send it to another site. (Not
# "no-referrer": browsers then send "Origin: null" on form posts and CSRF checks fail.)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# No inline script or style, nothing from another origin. The favicon is an empty data: URL
# (base.html) so browsers never fetch /favicon.ico.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

# --- request limits -----------------------------------------------------------------------

# Urlencoded forms over 2.5 MB -> 400 (Django); JSON bodies are read up to the view's own
# limit (the API: 5 MB -> 413); any body over MAX_REQUEST_BODY_BYTES -> 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 10 * 1024 * 1024)
MAX_JSON_DEPTH = env_int("MAX_JSON_DEPTH", 64)

# Survey links (/s/<token>/ and /api/survey/<token>/): LINK_RATE_LIMIT requests per (client
# address, token) and LINK_MISS_LIMIT unknown links per client address, per LINK_RATE_WINDOW
# seconds; then 429 with a friendly page. Counted in the default cache (CACHE_URL).
LINK_RATE_LIMIT = env_int("LINK_RATE_LIMIT", 120)
LINK_MISS_LIMIT = env_int("LINK_MISS_LIMIT", 20)
LINK_RATE_WINDOW = env_int("LINK_RATE_WINDOW", 60)

# --- internationalisation and static files ------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# Production serves what collectstatic put in STATIC_ROOT (hashed names, compressed); the
# demo serves straight from the app directories (whitenoise finders).
_static_root = env_str("STATIC_ROOT", " ").strip()
STATIC_ROOT = Path(_static_root) if _static_root else (None if DEBUG else VAR_DIR / "static")
WHITENOISE_USE_FINDERS = DEBUG
_STATICFILES_BACKEND = (
    "django.contrib.staticfiles.storage.StaticFilesStorage"
    if DEBUG
    else "whitenoise.storage.CompressedManifestStaticFilesStorage"
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": _STATICFILES_BACKEND},
}

# --- e-mail and links ---------------------------------------------------------------------

# Console by default; EMAIL_BACKEND=file writes one file per message into var/mail.
_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
_email_backend = env_str("EMAIL_BACKEND", "console")
EMAIL_BACKEND = _EMAIL_BACKENDS.get(_email_backend, _email_backend)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", " ").strip()
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", " ").strip()
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "fibrosurvey <noreply@localhost>")

# Absolute base for links in e-mails (invitations); requests use their own host.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
INVITATION_VALID_DAYS = env_int("INVITATION_VALID_DAYS", 60)

# --- logging ------------------------------------------------------------------------------

# Every handler (ours, Django's, gunicorn's) drops survey-link tokens from its lines
# (fibrosurvey.web.ops.redact); runserver's request lines go through the same handler.
LOGGING_CONFIG = "fibrosurvey.web.ops.redact.configure_logging"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_link_tokens": {"()": "fibrosurvey.web.ops.redact.RedactLinkTokens"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_link_tokens"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
