"""Password changes (own change, e-mailed reset, admin) go to the audit trail; a login
starts the fresh-login window that enrolling a second factor needs."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver

from fibrosurvey.web.accounts.twofactor import mark_fresh_login
from fibrosurvey.web.audit.services import record

_User = get_user_model()


@receiver(user_logged_in)
def _start_fresh_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        mark_fresh_login(request)


@receiver(post_save, sender=_User)
def _audit_password_change(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    # set_password() keeps the raw password in _password until save() finishes (after this
    # signal); a hash upgrade at login clears it first, so it is not taken for a change.
    if created or getattr(instance, "_password", None) is None:
        return
    # Never the password or its hash: that it changed, and whose, is enough.
    record("update", actor=instance, obj=instance, after={"password": "changed"})
