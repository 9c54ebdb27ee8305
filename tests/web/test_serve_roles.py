"""`fibrosurvey serve` migrates as the owner role (MIGRATE_DATABASE_URL) and serves as the
application role (DATABASE_URL), so the server's role need not own the tables."""

from __future__ import annotations

import subprocess
from typing import Any

from click.testing import CliRunner

from fibrosurvey.cli import main, web_commands


def test_serve_migrates_with_the_owner_url_and_serves_with_the_app_url(monkeypatch):
    seen: list[tuple[list[str], dict[str, str]]] = []

    def fake_run(command: list[str], env: dict[str, str], **kwargs: Any):  # type: ignore[no-untyped-def]
        seen.append((command, env))
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(web_commands.subprocess, "run", fake_run)
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db/fs")
    monkeypatch.setenv("MIGRATE_DATABASE_URL", "postgres://owner@db/fs")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 0, result.output
    (migrate_cmd, migrate_env), (server_cmd, server_env) = seen
    assert "migrate" in migrate_cmd and migrate_env["DATABASE_URL"] == "postgres://owner@db/fs"
    assert "gunicorn" in server_cmd and server_env["DATABASE_URL"] == "postgres://app@db/fs"

    seen.clear()
    result = CliRunner().invoke(main, ["serve", "--no-migrate"])
    assert [command for command, _ in seen] == [server_cmd]
