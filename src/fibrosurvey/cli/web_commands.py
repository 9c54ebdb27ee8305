"""``fibrosurvey serve``: run the Django capture platform under gunicorn.

Django is never imported here (the core must not depend on it): migrations and the server
run as subprocesses with DJANGO_SETTINGS_MODULE set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import click

from fibrosurvey.cli import main

__all__ = ["serve"]

SETTINGS_MODULE = "fibrosurvey.web.settings"


def _web_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    return env


def gunicorn_command(host: str, port: int, workers: int, timeout: int) -> list[str]:
    """The gunicorn command line for the platform's WSGI application."""
    return [
        sys.executable, "-m", "gunicorn", "fibrosurvey.web.wsgi:application",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--timeout", str(timeout),
        "--access-logfile", "-",
    ]  # fmt: skip


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="gunicorn worker processes (stateless; scale across hosts behind a proxy).",
)
@click.option("--timeout", default=60, show_default=True, type=click.IntRange(1, 3600))
@click.option(
    "--migrate/--no-migrate",
    default=True,
    show_default=True,
    help="Apply database migrations before starting.",
)
@click.option(
    "--collectstatic/--no-collectstatic",
    default=False,
    show_default=True,
    help="Collect static files into STATIC_ROOT first (production with DEBUG off).",
)
def serve(
    host: str, port: int, workers: int, timeout: int, migrate: bool, collectstatic: bool
) -> None:
    """Serve the web capture platform with gunicorn.

    Configuration comes from environment variables: DATABASE_URL, SECRET_KEY,
    FIELD_ENCRYPTION_KEY, AUDIT_HMAC_KEY, ALLOWED_HOSTS, DEBUG, EMAIL_* (see
    fibrosurvey.web.settings). MIGRATE_DATABASE_URL, when set, is used for migrate only (the
    owner role), DATABASE_URL for the server (a role that may only INSERT audit records).
    For a local demo with sample data use `make run` instead.
    """
    env = _web_environment()
    if shutil.which("gunicorn") is None and not _module_available("gunicorn"):
        raise click.ClickException("gunicorn is not installed; run `pip install -e .` first")
    # Migrations may run as the owner role while the server runs as a role that can only
    # INSERT audit records (README: "Running with a least-privilege database role").
    owner_env = dict(env)
    if env.get("MIGRATE_DATABASE_URL"):
        owner_env["DATABASE_URL"] = env["MIGRATE_DATABASE_URL"]
    steps: list[tuple[str, list[str], dict[str, str]]] = []
    if migrate:
        steps.append(
            ("migrate", [sys.executable, "-m", "django", "migrate", "--noinput"], owner_env)
        )
    if collectstatic:
        steps.append(
            ("collectstatic", [sys.executable, "-m", "django", "collectstatic", "--noinput"], env)
        )
    for name, command, step_env in steps:
        click.echo(f"fibrosurvey serve: running {name} ...", err=True)
        done = subprocess.run(command, env=step_env, check=False)
        if done.returncode != 0:
            raise click.ClickException(
                f"{name} failed (exit {done.returncode}); check DATABASE_URL, SECRET_KEY and "
                f"FIELD_ENCRYPTION_KEY, or set DEBUG=1 for a development setup"
            )
    click.echo(f"fibrosurvey serve: http://{host}:{port}/ ({workers} workers)", err=True)
    try:
        result = subprocess.run(gunicorn_command(host, port, workers, timeout), env=env)
    except KeyboardInterrupt:
        result = subprocess.CompletedProcess([], 0)
    sys.exit(result.returncode)


def _module_available(name: str) -> bool:
    from importlib.util import find_spec

    return find_spec(name) is not None
