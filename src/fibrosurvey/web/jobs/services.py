"""Queue, claim and run background jobs.

A view validates its input, then :func:`do_queue_job` stores the job (payload encrypted).
Production runs the worker, ``django-admin run_jobs``, in its own process: a job is CPU
work (parsing, encryption) that would otherwise compete for the GIL with the requests of
the web worker it runs in. In-process mode (FIBROSURVEY_JOBS_IN_PROCESS; default: on when
DEBUG, as for analyses) starts the job in a daemon thread once the request's transaction
commits, so the demo needs no worker.

A job's handler (``HANDLERS``, by kind) does its own all-or-nothing transaction and reports
progress through the callback it is given; progress is written in autocommit, outside that
transaction, so the progress page sees it. Claiming uses SELECT ... FOR UPDATE SKIP LOCKED
on PostgreSQL, so two workers never run the same job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from fibrosurvey.web.env import env_bool
from fibrosurvey.web.jobs.models import Job
from fibrosurvey.web.studies.models import Study

__all__ = [
    "HANDLERS",
    "JobFailed",
    "Progress",
    "do_queue_job",
    "in_process",
    "process_queued",
    "requeue_stale",
    "run_job",
]

log = logging.getLogger(__name__)

# kind -> handler(job, progress) -> result dict; raise JobFailed for a refusal the user sees.
HANDLERS: dict[str, str] = {
    Job.Kind.ENROL_CSV: "fibrosurvey.web.participants.enrolment.run_enrolment_job"
}

Progress = Callable[[str, int], None]


class JobFailed(Exception):
    """The job refused its input; ``problems`` are row-level details for the user."""

    def __init__(self, message: str, problems: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.problems = problems or []


def in_process() -> bool:
    return env_bool("FIBROSURVEY_JOBS_IN_PROCESS", default=bool(settings.DEBUG))


def do_queue_job(
    kind: str,
    *,
    study: Study,
    actor: User,
    payload: str = "",
    params: dict[str, Any] | None = None,
    total: int = 0,
) -> Job:
    if kind not in HANDLERS:
        raise ValueError(f"unknown job kind {kind!r}; known: {', '.join(HANDLERS)}")
    job = Job.objects.create(
        kind=kind,
        study=study,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        payload=payload,
        params=params or {},
        total=total,
        phase="queued",
    )
    if in_process():
        job_id = job.pk
        transaction.on_commit(lambda: _start_thread(job_id))
    return job


def _start_thread(job_id: int) -> None:
    def work() -> None:
        try:
            run_job(job_id)
        finally:
            close_old_connections()
            connection.close()

    threading.Thread(target=work, name=f"job-{job_id}", daemon=True).start()


def _claim(job_id: int | None) -> Job | None:
    with transaction.atomic():
        queryset = Job.objects.select_for_update(
            skip_locked=connection.features.has_select_for_update_skip_locked
        ).filter(status=Job.Status.QUEUED)
        if job_id is not None:
            queryset = queryset.filter(pk=job_id)
        job = queryset.order_by("created_at", "id").first()
        if job is None:
            return None
        job.status, job.started_at, job.phase = Job.Status.RUNNING, timezone.now(), "starting"
        job.save(update_fields=["status", "started_at", "phase"])
        return job


def run_job(job_id: int | None = None) -> Job | None:
    """Claim the queued job ``job_id`` (None: the oldest queued) and run it to the end."""
    job = _claim(job_id)
    if job is None:
        return None
    handler = import_string(HANDLERS[job.kind])

    def progress(phase: str, done: int) -> None:
        Job.objects.filter(pk=job.pk).update(phase=phase[:64], done=done)

    fields: dict[str, Any] = {}
    try:
        fields["result"] = handler(job, progress)
        fields["status"], fields["phase"] = Job.Status.DONE, "done"
        fields["done"] = job.total
    except JobFailed as refusal:
        fields |= {
            "status": Job.Status.FAILED,
            "phase": "refused",
            "error": str(refusal),
            "problems": refusal.problems,
        }
    except Exception as error:  # recorded on the job; the worker goes on
        log.exception("job %s failed", job.pk)
        fields |= {"status": Job.Status.FAILED, "phase": "failed", "error": repr(error)[:2000]}
    # The payload (contact details) is not kept once the job has ended.
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now(), payload="", **fields)
    job.refresh_from_db()
    return job


def process_queued() -> list[Job]:
    finished = []
    while (job := run_job()) is not None:
        finished.append(job)
    return finished


def requeue_stale(minutes: float) -> list[Job]:
    """Jobs left running this long lost their process; their transaction rolled back."""
    cutoff = timezone.now() - timedelta(minutes=minutes)
    stale = list(Job.objects.filter(status=Job.Status.RUNNING, started_at__lt=cutoff))
    for job in stale:
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
            status=Job.Status.QUEUED, phase="re-queued", done=0
        )
    return stale
