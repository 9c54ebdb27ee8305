"""Logins, logouts and failed logins go to the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from fibrosurvey.web.audit.services import record


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record("login", actor=user, obj=user, request=request)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record("logout", actor=user, obj=user, request=request)


@receiver(user_login_failed)
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # Never store the password Django already scrubbed; the username helps spot attacks.
    username = str(credentials.get("username", ""))[:100]
    record(
        "login_failed",
        actor_label=f"anonymous ({username})" if username else "anonymous",
        object_type="auth.user",
        after={"username": username},
        request=request,
    )
