"""Settings come from the environment; production refuses to start without its secrets."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from fibrosurvey.web.env import (
    ConfigurationError,
    env_bool,
    env_cache,
    env_int,
    env_list,
    env_str,
)


def _settings_in_subprocess(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DEBUG",
            "SECRET_KEY",
            "FIELD_ENCRYPTION_KEY",
            "DATABASE_URL",
            "PYTEST_CURRENT_TEST",
            "CACHE_URL",
        }
    }
    code = (
        # pytest imported first: production settings must not notice they run under a test.
        "import pytest, fibrosurvey.web.settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], "
        "s.PASSWORD_HASHERS[0].rsplit('.', 1)[1], s.DEBUG, "
        "s.CACHES['default']['BACKEND'].rsplit('.', 1)[1])"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=clean | env, capture_output=True, text=True
    )


def test_production_without_secret_key_fails_with_a_clear_message():
    result = _settings_in_subprocess()
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr
    assert "DEBUG=1" in result.stderr


def test_production_settings_never_fall_back_to_development_keys_under_a_test_runner():
    result = _settings_in_subprocess(FIBROSURVEY_TESTING="1")
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_the_test_settings_are_production_settings_with_throw_away_keys():
    from django.conf import settings

    assert settings.SETTINGS_MODULE == "fibrosurvey.web.settings_test"
    assert settings.DEBUG is False
    assert settings.SECRET_KEY.startswith("test-only-")
    assert settings.PASSWORD_HASHERS[0].endswith("MD5PasswordHasher")
    assert not hasattr(settings, "TESTING")


def test_debug_defaults_to_sqlite_in_var_and_argon2():
    result = _settings_in_subprocess(DEBUG="1")
    engine, name, hasher, debug, cache = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert name.endswith("var/fibrosurvey.sqlite3")
    assert (hasher, debug, cache) == ("Argon2PasswordHasher", "True", "LocMemCache")


def test_database_url_selects_postgresql():
    result = _settings_in_subprocess(
        SECRET_KEY="x" * 50,
        FIELD_ENCRYPTION_KEY="o0b8Jm3Y7JrS5W0hmZl7oE0J9uS0Vf3Qw3zV3vQvY9c=",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/test",
        ALLOWED_HOSTS="example.org",
        CACHE_URL="redis://127.0.0.1:6379/0",
    )
    engine, name, hasher, debug, cache = result.stdout.split()
    assert (engine, name, debug) == ("django.db.backends.postgresql", "test", "False")
    assert (hasher, cache) == ("Argon2PasswordHasher", "RedisCache")


def test_cache_url_selects_the_backend_and_names_the_allowed_schemes(monkeypatch):
    monkeypatch.setenv("FS_CACHE", "redis://127.0.0.1:6379/3")
    assert env_cache("FS_CACHE", "locmem://", key_prefix="p") == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/3",
        "KEY_PREFIX": "p",
    }
    monkeypatch.delenv("FS_CACHE")
    assert env_cache("FS_CACHE", "locmem://")["BACKEND"].endswith("LocMemCache")
    monkeypatch.setenv("FS_CACHE", "memcached://127.0.0.1:11211")
    with pytest.raises(ConfigurationError, match=r"FS_CACHE=.*redis://host:port/db.*locmem://"):
        env_cache("FS_CACHE", "locmem://")


def test_env_readers(monkeypatch):
    monkeypatch.setenv("FS_FLAG", "yes")
    monkeypatch.setenv("FS_NUMBER", "12")
    monkeypatch.setenv("FS_LIST", "a, b,,c")
    assert env_bool("FS_FLAG") is True
    assert env_int("FS_NUMBER", 0) == 12
    assert env_list("FS_LIST") == ["a", "b", "c"]
    assert env_str("FS_MISSING", "fallback") == "fallback"
    monkeypatch.setenv("FS_FLAG", "maybe")
    with pytest.raises(ConfigurationError, match="FS_FLAG"):
        env_bool("FS_FLAG")
    monkeypatch.setenv("FS_NUMBER", "twelve")
    with pytest.raises(ConfigurationError, match="FS_NUMBER"):
        env_int("FS_NUMBER", 0)
    with pytest.raises(ConfigurationError, match="FS_MISSING is required"):
        env_str("FS_MISSING")
