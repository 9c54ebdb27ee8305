"""Small typed readers for settings that come from environment variables.

Each reader names the variable in its error, so a misconfigured deployment says what to fix.
"""

from __future__ import annotations

import os

__all__ = ["ConfigurationError", "env_bool", "env_cache", "env_int", "env_list", "env_str"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigurationError(RuntimeError):
    """A required environment variable is missing or has a value we cannot read."""


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ConfigurationError(f"environment variable {name} is required but not set")
        return default
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigurationError(
        f"environment variable {name}={value!r} is not a boolean; use one of 1/0, true/false"
    )


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigurationError(
            f"environment variable {name}={value!r} is not a whole number"
        ) from None


def env_list(name: str, default: str = "") -> list[str]:
    """A comma-separated list; blanks dropped."""
    return [part.strip() for part in env_str(name, default or " ").split(",") if part.strip()]


_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def env_cache(name: str, default: str, key_prefix: str = "") -> dict[str, object]:
    """A Django cache from a URL: ``redis://host:port/db`` (shared by every server process)
    or ``locmem://`` (one process only: the embedded demo and tests)."""
    url = env_str(name, default)
    if url.startswith(_REDIS_SCHEMES):
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": key_prefix,
        }
    if url.startswith("locmem://"):
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": url.removeprefix("locmem://") or "default",
            "KEY_PREFIX": key_prefix,
        }
    raise ConfigurationError(
        f"environment variable {name}={url!r} is not a cache URL; use redis://host:port/db, "
        "rediss://host:port/db, unix:///path/to/socket or locmem://"
    )
