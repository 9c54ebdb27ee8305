"""Run an analysis plan on a study's data, as a job.

Flow: :func:`do_request_analysis` validates the plan with the core (``parse_plan``; its
line-numbered errors go back to the user) and queues an :class:`AnalysisRun`. A worker
(``manage.py run_analysis_jobs``) claims queued runs one at a time (``SELECT ... FOR UPDATE
SKIP LOCKED`` on PostgreSQL, so several workers never take the same run) and calls
:func:`process_run`: build the de-identified analysis dataset (the export builder, scored by
the core), ``run_plan``, ``render_html``, store report and results.

In-process mode: when ``FIBROSURVEY_ANALYSIS_IN_PROCESS`` is on (default: on when DEBUG, off
otherwise) the run starts in a daemon thread right after the request's transaction commits
(``transaction.on_commit``), so the demo needs no worker. Production runs the worker.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import traceback
from datetime import timedelta
from typing import Any

import polars as pl
from django.conf import settings
from django.contrib.auth.models import User
from django.db import close_old_connections, connection, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from fibrosurvey.analysis import PlanError, parse_plan
from fibrosurvey.analysis.plan import default_plan_text
from fibrosurvey.web.analyses.models import AnalysisRun
from fibrosurvey.web.analyses.sandbox import run_in_child
from fibrosurvey.web.audit.services import record
from fibrosurvey.web.env import env_bool, env_int
from fibrosurvey.web.exports.dataset import DatasetBuilder
from fibrosurvey.web.exports.models import AnalysisRunScope
from fibrosurvey.web.recruitment.flow import flow_report
from fibrosurvey.web.recruitment.models import OpenLink
from fibrosurvey.web.studies.models import Membership, Site
from fibrosurvey.web.studies.permissions import can

__all__ = [
    "PlanError",
    "claim_next_run",
    "do_request_analysis",
    "in_process",
    "process_queued",
    "process_run",
    "readable_runs",
    "requeue_stale",
]

log = logging.getLogger(__name__)
DEFAULT_PLAN_SOURCE = "default plan (fibrosurvey/analysis/plans)"
DEFAULT_MEMORY_MB = 2048
WITHDRAWAL_RULE = (
    "Withdrawn participants: the data they gave before withdrawing are analysed (a "
    "'no further contact' withdrawal keeps them); anything recorded after the withdrawal is "
    "left out, and participants who withdrew with deletion have no data left."
)


def in_process() -> bool:
    return env_bool("FIBROSURVEY_ANALYSIS_IN_PROCESS", default=bool(settings.DEBUG))


def memory_limit_mb() -> int:
    """Memory an analysis may use above its loaded libraries (0: unlimited)."""
    return env_int("FIBROSURVEY_ANALYSIS_MEMORY_MB", DEFAULT_MEMORY_MB)


def do_request_analysis(
    membership: Membership,
    *,
    actor: User,
    plan_text: str | None = None,
    plan_name: str = "",
    imputations: int | None = None,
    request: HttpRequest | None = None,
) -> AnalysisRun:
    """Queue a run of ``plan_text`` (None: the default plan). Raises PlanError when invalid."""
    source = DEFAULT_PLAN_SOURCE if plan_text is None else (plan_name or "uploaded plan")
    text = default_plan_text() if plan_text is None else plan_text
    parse_plan(text, source)  # PlanError names the line and key
    with transaction.atomic():
        run = AnalysisRun.objects.create(
            study=membership.study,
            requested_by=actor,
            plan_source=source[:255],
            plan_text=text,
            plan_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            imputations=imputations,
        )
        # The dataset holds the requester's sites only, fixed now (not when the worker runs).
        AnalysisRunScope.objects.create(run=run, site_id=membership.site_id)
        record(
            "analysis",
            actor=actor,
            study=membership.study,
            obj=run,
            after={
                "status": run.status,
                "plan": source,
                "plan_sha256": run.plan_sha256,
                "site": membership.site.code if membership.site is not None else None,
            },
            request=request,
        )
        if in_process():
            run_id = run.pk
            transaction.on_commit(lambda: _start_thread(run_id))
    return run


def readable_runs(membership: Membership) -> QuerySet[AnalysisRun]:
    """The runs ``membership`` may read: only members who could request the same run, i.e.
    analysts and owners, and a site-limited one only the runs limited to their site."""
    runs = AnalysisRun.objects.filter(study=membership.study)
    if not can(membership, "run_analysis"):
        return runs.none()
    if membership.site_id is not None:
        runs = runs.filter(scope__site_id=membership.site_id)
    return runs


def _scope_site(run: AnalysisRun) -> Site | None:
    """The site the run's dataset is limited to (None: every site). A run queued before
    scopes were recorded takes its requester's current limit; one with no requester left
    is refused rather than run on every site."""
    scope = AnalysisRunScope.objects.filter(run=run).select_related("site").first()
    if scope is not None:
        return scope.site
    if run.requested_by_id is None:
        raise ValueError("the requester of this run is no longer a member of the study")
    membership = (
        Membership.objects.filter(study_id=run.study_id, user_id=run.requested_by_id)
        .select_related("site")
        .first()
    )
    if membership is None:
        raise ValueError("the requester of this run is no longer a member of the study")
    AnalysisRunScope.objects.create(run=run, site=membership.site)
    return membership.site


def _start_thread(run_id: int) -> None:
    def work() -> None:
        try:
            run = claim_run(run_id)
            if run is not None:
                process_run(run)
        finally:
            close_old_connections()
            connection.close()

    threading.Thread(target=work, name=f"analysis-run-{run_id}", daemon=True).start()


def _claim(queryset: QuerySet[AnalysisRun]) -> AnalysisRun | None:
    with transaction.atomic():
        locked = queryset.select_for_update(
            skip_locked=connection.features.has_select_for_update_skip_locked
        )
        run = locked.filter(status=AnalysisRun.Status.QUEUED).order_by("created_at", "id").first()
        if run is None:
            return None
        run.status = AnalysisRun.Status.RUNNING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at"])
        return run


def claim_run(run_id: int) -> AnalysisRun | None:
    return _claim(AnalysisRun.objects.filter(pk=run_id))


def claim_next_run() -> AnalysisRun | None:
    """Take the oldest queued run (marking it running), or None."""
    return _claim(AnalysisRun.objects.all())


def process_run(run: AnalysisRun) -> AnalysisRun:
    """Run the plan on the study's current data; store report and results (or the error)."""
    from fibrosurvey.analysis import data_sha256

    try:
        site = _scope_site(run)
        frame = DatasetBuilder(run.study, site=site).frame()
        withdrawn = frame.select(
            pl.col("participant_id").filter(pl.col("withdrawn") == 1).n_unique()
        ).item()
        # The analysed table is the export, column for column (dates, withdrawal and scoring
        # provenance are not analysis variables, but dropping them made the report's size
        # disagree with the export's): the report's "rows x columns" is the export's.
        frame, design_note = _with_design(frame)
        run.notes = "\n\n".join(
            note
            for note in (
                f"Data of site {site.code} only (the requester's site)." if site else "",
                design_note,
                f"{withdrawn} participant(s) in the data withdrew. {WITHDRAWAL_RULE}"
                if withdrawn
                else "",
            )
            if note
        )
        flow = _flow(run, site)
        run.rows = frame.height
        run.data_sha256 = data_sha256(frame)
        if frame.height == 0:
            raise ValueError("the study has no data yet; nothing to analyse")
        # The plan is user input: parsed and run in a child process with a memory limit.
        run.report_html, run.results = run_in_child(
            memory_limit_mb(),
            frame=frame,
            plan_text=run.plan_text,
            plan_source=run.plan_source,
            imputations=run.imputations,
            data_sha256=run.data_sha256,
            # No population sizes are known: design-based estimates without an fpc.
            drop_fpc=bool(design_note),
            flow=flow,
        )
        run.status = AnalysisRun.Status.DONE
    except Exception as error:  # a failed run must say why, whatever went wrong
        log.exception("analysis run %s failed", run.pk)
        run.status = AnalysisRun.Status.FAILED
        run.error = f"{type(error).__name__}: {error}"
        if not isinstance(error, PlanError | ValueError):
            run.error += "\n\n" + traceback.format_exc(limit=5)
    run.finished_at = timezone.now()
    with transaction.atomic():
        run.save()
        record(
            "analysis",
            actor_label="analysis worker",
            study=run.study_id,
            obj=run,
            before={"status": AnalysisRun.Status.RUNNING},
            after={
                "status": run.status,
                "rows": run.rows,
                "data_sha256": run.data_sha256,
                "seconds": run.seconds,
            },
        )
    return run


def _flow(run: AnalysisRun, site: Site | None) -> dict[str, Any] | None:
    """The open-recruitment flow counts for the report's diagram (STROBE item 13), or None:
    no open link, or a run limited to one site (the flow counts every site's visitors)."""
    if site is not None or not OpenLink.objects.filter(study=run.study).exists():
        return None
    return flow_report(run.study).as_dict()


SRS_NOTE = (
    "No sampling design is recorded for this study, so it was analysed as a simple random "
    "sample: weight 1, one stratum, each participant their own cluster, no finite population "
    "correction."
)
OPEN_LINK_SRS_NOTE = (
    "{n} participant(s) joined through the open recruitment link, outside the recorded "
    "sampling design, so no design covers the whole sample: it was analysed as a simple "
    "random sample (weight 1, one stratum, each participant their own cluster, no finite "
    "population correction), the recorded design variables left aside."
)


def _with_design(frame: pl.DataFrame) -> tuple[pl.DataFrame, str]:
    """A study with no design variables at all (a web study, not a probability sample) is
    analysed as a simple random sample, and the run says so. So is a study whose only rows
    without design variables are open-link recruits: they joined by themselves, outside any
    sampling design, so no design covers the whole sample. A study with design variables
    missing for some staff-enrolled participants is left as it is: the core then names the
    missing rows."""
    if frame.height == 0:
        return frame, ""
    missing = frame.filter(pl.col("design_weight").is_null())
    if missing.height == 0:
        return frame, ""
    open_link_only = (
        "recruitment_source" in missing.columns and missing["recruitment_source"].null_count() == 0
    )
    if missing.height == frame.height:
        note = SRS_NOTE
    elif open_link_only:
        note = OPEN_LINK_SRS_NOTE.format(n=missing["participant_id"].n_unique())
    else:
        return frame, ""
    srs = frame.with_columns(
        pl.lit(1.0).alias("design_weight"),
        pl.lit(1, pl.Int64).alias("design_stratum"),
        pl.col("participant_id").rank("dense").cast(pl.Int64).alias("design_psu"),
        pl.lit(None, pl.Float64).alias("design_fpc"),
    )
    return srs, note


def requeue_stale(minutes: float) -> list[AnalysisRun]:
    """Runs left "running" longer than ``minutes`` (their worker died) go back to the queue."""
    cutoff = timezone.now() - timedelta(minutes=minutes)
    stale = []
    with transaction.atomic():
        for run in AnalysisRun.objects.select_for_update().filter(
            status=AnalysisRun.Status.RUNNING, started_at__lt=cutoff
        ):
            run.status = AnalysisRun.Status.QUEUED
            run.started_at = None
            run.save(update_fields=["status", "started_at"])
            record(
                "analysis",
                actor_label="analysis worker",
                study=run.study_id,
                obj=run,
                before={"status": AnalysisRun.Status.RUNNING},
                after={"status": run.status, "reason": f"no result after {minutes:g} minutes"},
            )
            stale.append(run)
    return stale


def process_queued(limit: int | None = None) -> list[AnalysisRun]:
    """Process queued runs until none is left (or ``limit`` runs); returns them."""
    done: list[AnalysisRun] = []
    while limit is None or len(done) < limit:
        run = claim_next_run()
        if run is None:
            break
        done.append(process_run(run))
    return done
