"""Failed-login lockout with two limits: per (username, address) and per address.

django-axes counts failures per entry of AXES_LOCKOUT_PARAMETERS but compares only the largest
count with the one AXES_FAILURE_LIMIT. Guessing one user's password should lock out after a
few tries (AXES_FAILURE_LIMIT), while one address may legitimately carry many users (a
hospital behind one NAT address), so failures across usernames from one address (password
spraying) get their own, higher limit: LOGIN_IP_FAILURE_LIMIT.

AXES_LOCKOUT_PARAMETERS must be ``[["username", "ip_address"], "ip_address"]`` (that order).
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest

__all__ = ["UsernameAndAddressLockoutHandler"]


# django-axes ships no type information, so its handler class is Any to mypy.
class UsernameAndAddressLockoutHandler(AxesDatabaseHandler):  # type: ignore[misc]
    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        per_user_and_address, per_address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if per_address >= settings.LOGIN_IP_FAILURE_LIMIT:
            # Reported as a count at the (username, address) limit: axes then locks out.
            return max(int(per_user_and_address), int(get_failure_limit(request, credentials)))
        return int(per_user_and_address)

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        """A successful login clears that username's failures from this address only: the
        address's count across usernames must survive an attacker's own valid login."""
        per_user_and_address = self.filter_user_attempts(request, credentials)[0]
        count, _ = per_user_and_address.delete()
        return int(count)
