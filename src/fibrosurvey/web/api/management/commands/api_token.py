"""Create, list or revoke API tokens: ``api_token create --user alice --study 3``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fibrosurvey.web.api.models import ApiToken
from fibrosurvey.web.api.services import do_issue_token, do_revoke_token
from fibrosurvey.web.studies.models import Membership


class Command(BaseCommand):
    help = "Create, list or revoke API tokens (a token belongs to one user and one study)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token and print it (shown once).")
        create.add_argument("--user", required=True, help="Username.")
        create.add_argument("--study", required=True, type=int, help="Study id.")
        create.add_argument("--name", default="", help="What the token is for.")
        listing = sub.add_parser("list", help="List tokens (hints only).")
        listing.add_argument("--user", help="Only this username.")
        revoke = sub.add_parser("revoke", help="Revoke a token by id (see list).")
        revoke.add_argument("id", type=int)

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "create":
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no user {options['user']!r}; create it first")
            membership = Membership.objects.filter(user=user, study_id=options["study"]).first()
            if membership is None:
                raise CommandError(
                    f"{user.username} is not a member of study {options['study']}; "
                    "add them as a member first"
                )
            row, token = do_issue_token(user=user, study=membership.study, name=options["name"])
            self.stdout.write(f"token id {row.pk} for {user.username} in study {row.study_id}:")
            self.stdout.write(token)
        elif action == "list":
            rows = ApiToken.objects.select_related("user")
            if options.get("user"):
                rows = rows.filter(user__username=options["user"])
            for row in rows:
                state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
                self.stdout.write(
                    f"{row.pk}\t{row.hint}…\t{row.user.username}\tstudy {row.study_id}\t{state}"
                    f"\t{row.name}"
                )
        else:
            revoked = ApiToken.objects.filter(pk=options["id"]).first()
            if revoked is None:
                raise CommandError(f"no token with id {options['id']}; see `api_token list`")
            do_revoke_token(revoked)
            self.stdout.write(f"token {revoked.pk} revoked")
