"""Account lockouts (django-axes) go to the audit trail as a failed login marked locked_out."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.dispatch import receiver

from fibrosurvey.web.audit.services import record


@receiver(user_locked_out)
def _locked_out(sender: Any, request: Any = None, username: str = "", **kwargs: Any) -> None:
    username = str(username or "")[:100]
    record(
        "login_failed",
        actor_label=f"anonymous ({username})" if username else "anonymous",
        object_type="auth.user",
        after={"username": username, "locked_out": True},
        request=request,
    )
