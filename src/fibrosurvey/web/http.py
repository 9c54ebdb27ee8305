"""Request types for type checking: what a view may assume about ``request.user``."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest

__all__ = ["AuthenticatedHttpRequest"]


class AuthenticatedHttpRequest(HttpRequest):
    """A request that reached a view through ``login_required`` (or ``study_view``): its
    user is a real account, never ``AnonymousUser``. Annotation only; Django builds the
    request object."""

    user: User
