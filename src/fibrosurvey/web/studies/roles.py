"""The roles a staff member can hold in a study.

Its own module so that both ``models`` (the Membership.role choices) and ``permissions``
(what each role may do) import it without importing each other.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["Role"]


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    COORDINATOR = "coordinator", _("Coordinator")
    ANALYST = "analyst", _("Analyst")
    VIEWER = "viewer", _("Viewer")
