"""Each participant's status for one event, computed by the database for a whole list.

One ``CASE`` expression over the participant's invitation for the event (a filtered join),
so the participant list can filter, sort and count by status in a few queries however many
participants there are; no per-participant Python loop.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.db.models import Case, Count, Exists, F, FilteredRelation, OuterRef, Q, QuerySet, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.recruitment.models import QualityFlag
from fibrosurvey.web.studies.models import Event

__all__ = [
    "OVERDUE_AFTER_DAYS",
    "EventStatus",
    "only_status",
    "status_counts",
    "with_event_status",
]

# A link not completed this many days after it was first issued is overdue (the scheduled
# reminders start after the same delay).
OVERDUE_AFTER_DAYS = 7


class EventStatus(models.TextChoices):
    """In the order the list sorts by: what needs the coordinator first."""

    OVERDUE = "overdue", _("overdue")
    NOT_STARTED = "not_started", _("not started")
    IN_PROGRESS = "in_progress", _("in progress")
    COMPLETED = "completed", _("completed")
    FLAGGED = "flagged", _("flagged")
    WITHDRAWN = "withdrawn", _("withdrawn")


_RANK = {status: rank for rank, status in enumerate(EventStatus.values)}


def with_event_status(
    participants: QuerySet[Participant], event: Event, now: datetime | None = None
) -> QuerySet[Participant]:
    """Annotate ``event_status`` (an :class:`EventStatus` value), ``status_rank`` and the
    event's invitation fields (``event_invitation_id``, ``event_reminders``,
    ``event_sent_at``).

    Precedence: withdrawn, then flagged (a quality flag from the open link), then completed,
    overdue (issued more than ``OVERDUE_AFTER_DAYS`` ago, or expired, and not completed),
    in progress (opened), not started (not invited yet, or not opened).
    """
    now = now or timezone.now()
    overdue_since = now - timedelta(days=OVERDUE_AFTER_DAYS)
    flagged = QualityFlag.objects.filter(visit__participant=OuterRef("pk"))
    status = Case(
        When(withdrawn_at__isnull=False, then=models.Value(EventStatus.WITHDRAWN.value)),
        When(Exists(flagged), then=models.Value(EventStatus.FLAGGED.value)),
        When(
            event_invitation__completed_at__isnull=False,
            then=models.Value(EventStatus.COMPLETED.value),
        ),
        When(
            Q(event_invitation__id__isnull=False)
            & (
                Q(event_invitation__created_at__lte=overdue_since)
                | Q(event_invitation__expires_at__lte=now)
            ),
            then=models.Value(EventStatus.OVERDUE.value),
        ),
        When(
            event_invitation__opened_at__isnull=False,
            then=models.Value(EventStatus.IN_PROGRESS.value),
        ),
        default=models.Value(EventStatus.NOT_STARTED.value),
        output_field=models.CharField(),
    )
    rank = Case(
        *(When(event_status=value, then=models.Value(r)) for value, r in _RANK.items()),
        output_field=models.IntegerField(),
    )
    return (
        participants.annotate(
            event_invitation=FilteredRelation("invitations", condition=Q(invitations__event=event))
        )
        .annotate(
            event_status=status,
            event_invitation_id=F("event_invitation__id"),
            event_reminders=F("event_invitation__reminders_sent"),
            event_sent_at=F("event_invitation__sent_at"),
        )
        .annotate(status_rank=rank)
    )


# The annotation's name, as a variable: the type checker's Django plugin knows model fields,
# not annotations.
_STATUS: str = "event_status"


def only_status(participants: QuerySet[Participant], status: str) -> QuerySet[Participant]:
    """An annotated queryset (``with_event_status``) limited to one status."""
    return participants.filter(**{_STATUS: status})


def status_counts(participants: QuerySet[Participant]) -> dict[str, int]:
    """How many participants of an annotated queryset have each status (one query)."""
    counts = dict.fromkeys(EventStatus.values, 0)
    grouped = participants.order_by().values(_STATUS).annotate(n=Count("pk", distinct=True))
    for row in grouped:
        counts[row[_STATUS]] = row["n"]
    return counts
