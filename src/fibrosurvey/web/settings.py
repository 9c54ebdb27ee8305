"""Django settings, every value read from the environment (see ``fibrosurvey.web.env``).

Defaults suit the embedded demo (SQLite in ``var/``, console e-mail). Production sets
DATABASE_URL, SECRET_KEY, FIELD_ENCRYPTION_KEY, ALLOWED_HOSTS and the e-mail variables.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from fibrosurvey.web.env import ConfigurationError, env_bool, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent
# src/fibrosurvey/web -> repository root (var/ lives there, next to pyproject.toml).
REPO_ROOT = PACKAGE_DIR.parents[2]
VAR_DIR = Path(env_str("FIBROSURVEY_VAR_DIR", str(REPO_ROOT / "var")))

# Running under pytest: fixed throw-away keys and a fast password hasher are safe there.
TESTING = "pytest" in sys.modules or env_bool("FIBROSURVEY_TESTING")
DEBUG = env_bool("DEBUG", default=False)

# Fixed keys for development and tests only; never used when DEBUG is off outside tests.
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production-0123456789"
_DEV_FIELD_KEY = "o0b8Jm3Y7JrS5W0hmZl7oE0J9uS0Vf3Qw3zV3vQvY9c="

if DEBUG or TESTING:
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

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if (DEBUG or TESTING) else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

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
    "fibrosurvey.web.participants",
    "fibrosurvey.web.survey",
    "fibrosurvey.web.dashboard",
]
# Apps written by the second web engineer; added when their package exists so either side
# can land first without breaking the other.
for _optional_app in ("labs", "exports", "analyses", "api"):
    if (PACKAGE_DIR / _optional_app / "apps.py").exists():
        INSTALLED_APPS.append(f"fibrosurvey.web.{_optional_app}")
# django-ninja serves the API docs' Swagger UI from its own static files (no CDN; CSP 'self').
INSTALLED_APPS.append("ninja")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'fibrosurvey.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
if TESTING:
    # Argon2 costs ~50 ms per login; the suite logs in hundreds of times.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic target for production; the demo and tests serve from the app directories.
STATIC_ROOT: Path | None = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
if (DEBUG or TESTING) and not os.environ.get("STATIC_ROOT"):
    STATIC_ROOT = None
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# Without collectstatic (demo, tests) whitenoise serves straight from the finders.
WHITENOISE_USE_FINDERS = DEBUG or TESTING
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# E-mail: console by default; EMAIL_BACKEND=file writes one file per message into var/mail.
_email_backend = env_str("EMAIL_BACKEND", "console")
EMAIL_BACKEND = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}.get(_email_backend, _email_backend)
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

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not (DEBUG or TESTING))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
# Survey links carry a secret token in the path: never send it to another site. (Not
# "no-referrer": browsers then send "Origin: null" on form posts and CSRF checks fail.)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# ---------------------------------------------------------------------------------------
# Security hardening (owned by the ops/security work; fibrosurvey.web.ops). Appended as one
# block so the settings above stay untouched; see tests/web/security/.
# ---------------------------------------------------------------------------------------
from datetime import timedelta as _timedelta  # noqa: E402

INSTALLED_APPS += [
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "fibrosurvey.web.ops",
    "fibrosurvey.web.jobs",
]
# Headers and request limits first (they answer before any view); link throttling before
# sessions (a throttled request costs no database work); 2FA after authentication; axes last.
MIDDLEWARE.insert(1, "fibrosurvey.web.ops.middleware.SecurityHeadersMiddleware")
MIDDLEWARE.insert(2, "fibrosurvey.web.ops.middleware.RequestLimitsMiddleware")
MIDDLEWARE.insert(3, "fibrosurvey.web.ops.middleware.ParticipantLinkThrottleMiddleware")
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django_otp.middleware.OTPMiddleware") + 1,
    "fibrosurvey.web.ops.twofactor.TwoFactorRequiredMiddleware",
)
MIDDLEWARE.append("axes.middleware.AxesMiddleware")

# Content-Security-Policy: no inline script or style, nothing from another origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)

# Request bodies: urlencoded forms over 2.5 MB -> 400 (Django); any body over 10 MB -> 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 10 * 1024 * 1024)
MAX_JSON_DEPTH = env_int("MAX_JSON_DEPTH", 64)

# Survey links: requests per (client IP, token) per window; 429 with a friendly page.
LINK_RATE_LIMIT = env_int("LINK_RATE_LIMIT", 120)
LINK_RATE_WINDOW = env_int("LINK_RATE_WINDOW", 60)

# Failed-login lockout (django-axes): 5 failures for one username from one IP -> locked
# for AXES_COOLOFF_MINUTES; each failure is also in the audit trail (audit.signals).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = _timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Behind a reverse proxy set AXES_IPWARE_META_PRECEDENCE_ORDER via the proxy's header; the
# default (REMOTE_ADDR) is right for gunicorn bound to 127.0.0.1 behind the proxy.
OTP_TOTP_ISSUER = "fibrosurvey"

# Sessions end after 30 minutes without a request (each request renews the cookie).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Production (not DEBUG, not tests): HTTPS only, behind a proxy that sets X-Forwarded-Proto.
if not (DEBUG or TESTING):
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
    # Only a local benchmark over plain HTTP turns these off (benchmarks/load_submit.py).
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A persistent connection (DATABASE_CONN_MAX_AGE > 0) is checked before reuse, so a database
# restart costs at most one failed request per worker instead of one per stale connection.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# --- end of security hardening ---------------------------------------------------------

# Audit trail signing keys and the backup key (fibrosurvey.web.audit.keys, ops.backup):
# secrets kept out of the database, several comma-separated, newest first. Fixed throw-away
# values for development and tests; production must set them (migrate and backup say so).
_DEV_AUDIT_KEY = "dev-only-audit-hmac-key-do-not-use-in-production-0123456789"
_DEV_BACKUP_KEY = "ZGV2LW9ubHktYmFja3VwLWtleS1kby1ub3QtdXNlLTA="
AUDIT_HMAC_KEY = env_str("AUDIT_HMAC_KEY", _DEV_AUDIT_KEY if (DEBUG or TESTING) else " ").strip()
BACKUP_ENCRYPTION_KEY = env_str(
    "BACKUP_ENCRYPTION_KEY", _DEV_BACKUP_KEY if (DEBUG or TESTING) else " "
).strip()
