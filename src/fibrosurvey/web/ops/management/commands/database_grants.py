"""``database_grants APP_ROLE``: print the PostgreSQL GRANT/REVOKE statements for running
the application as APP_ROLE (audit records: INSERT only); pipe them to psql as the owner."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from fibrosurvey.web.audit.roles import grants_sql


class Command(BaseCommand):
    help = (
        "Print the SQL that lets APP_ROLE use the database but only INSERT audit records. "
        "Run it as the owner after every migrate: django-admin database_grants app | psql ..."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("app_role")
        parser.add_argument(
            "--owner",
            default="",
            help="the role that owns the tables (default: the user of DATABASE_URL)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        owner = options["owner"] or connection.settings_dict.get("USER") or "postgres"
        for statement in grants_sql(options["app_role"], owner):
            self.stdout.write(statement + ";")
