"""Queue an e-mail (inside the caller's transaction) and send the due ones (the worker).

Delivery is at least once: a worker that dies after the mail server accepted a message but
before marking it sent sends it again after the lease. Several workers never take the same
message at once (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, then a lease).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from fibrosurvey.web.outbox.models import OutboxEmail
from fibrosurvey.web.studies.models import Study

__all__ = [
    "LEASE",
    "MAX_ATTEMPTS",
    "backoff",
    "do_send_due_emails",
    "enqueue_email",
    "single_line",
    "undelivered_emails",
]

MAX_ATTEMPTS = 8
# A claimed message is not offered to another worker for this long (a send takes seconds).
LEASE = timedelta(minutes=5)
_FIRST_RETRY = timedelta(minutes=1)
_LONGEST_WAIT = timedelta(hours=2)


def single_line(text: str, limit: int = 255) -> str:
    """Header-safe text: a newline in a subject (e.g. from a study name) is a BadHeaderError."""
    return " ".join(text.split())[:limit]


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt after ``attempts`` failed ones: 1, 2, 4 ... minutes."""
    wait: timedelta = _FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return min(wait, _LONGEST_WAIT)


def enqueue_email(
    *, kind: str, subject: str, body: str, recipients: list[str], study: Study | int | None = None
) -> OutboxEmail:
    """Queue one e-mail; call it inside the transaction of the change it reports, so the
    e-mail exists exactly when the change does."""
    return OutboxEmail.objects.create(
        study_id=getattr(study, "pk", study),
        kind=kind,
        subject=single_line(subject),
        body=body,
        recipients=sorted(set(recipients)),
    )


def _claim_due(now: datetime, limit: int) -> list[OutboxEmail]:
    with transaction.atomic():
        due = list(
            OutboxEmail.objects.select_for_update(skip_locked=True)
            .filter(status=OutboxEmail.Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")[:limit]
        )
        if due:
            OutboxEmail.objects.filter(pk__in=[m.pk for m in due]).update(
                next_attempt_at=now + LEASE
            )
    return due


def _send(message: OutboxEmail) -> None:
    EmailMessage(single_line(message.subject), message.body, None, list(message.recipients)).send(
        fail_silently=False
    )


def do_send_due_emails(now: datetime | None = None, limit: int = 100) -> list[OutboxEmail]:
    """Send the messages that are due; a failure is recorded and retried with backoff, and
    after ``MAX_ATTEMPTS`` the message is marked failed (the dashboard shows it)."""
    now = now or timezone.now()
    processed = []
    for message in _claim_due(now, limit):
        message.attempts += 1
        try:
            _send(message)
        except Exception as error:  # one bad message or a server down must not stop the worker
            message.last_error = f"{type(error).__name__}: {error}"[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxEmail.Status.FAILED
            message.next_attempt_at = now + backoff(message.attempts)
        else:
            message.status = OutboxEmail.Status.SENT
            message.sent_at = timezone.now()
        message.save(
            update_fields=["attempts", "last_error", "status", "next_attempt_at", "sent_at"]
        )
        processed.append(message)
    return processed


def undelivered_emails(study: Study | int) -> list[OutboxEmail]:
    """Messages of the study that failed at least once and are not sent yet."""
    return list(
        OutboxEmail.objects.filter(study_id=getattr(study, "pk", study), attempts__gt=0)
        .exclude(status=OutboxEmail.Status.SENT)
        .order_by("created_at")
    )
