"""Run a plan on an analysis dataset: primary analyses, multiplicity, verdicts, sensitivity.

Order of work (each step vectorised; no loop over respondents):

1. derive the plan's variables;
2. compute every hypothesis on complete cases (the primary analysis);
3. Benjamini-Hochberg q-values within each claim family;
4. verdicts, and the minimal detectable effect for every *not supported* verdict;
5. sensitivity analyses: multiple imputation (Rubin's rules) and, for biomarker analyses,
   excluding samples processed too slowly; IPW for change analyses (done in step 2);
6. design-based descriptive estimates, Table 1, distributions and data quality.
"""

from __future__ import annotations

import hashlib
import math
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from threadpoolctl import threadpool_limits

from fibrosurvey.analysis.derive import apply_derivations
from fibrosurvey.analysis.describe import cohort_table, data_quality, score_distributions
from fibrosurvey.analysis.design_models import add_design_models
from fibrosurvey.analysis.frames import at_event, clear_frame_cache, to_numeric
from fibrosurvey.analysis.mde import minimal_detectable_effect
from fibrosurvey.analysis.methods import (
    Task,
    change_tasks,
    correlation_tasks,
    discrimination_tasks,
    group_comparison_tasks,
)
from fibrosurvey.analysis.methods_text import methods_in_words
from fibrosurvey.analysis.plan import (
    ChangeAnalysis,
    CorrelationAnalysis,
    GroupComparison,
    Plan,
    load_plan,
)
from fibrosurvey.analysis.results import ClaimResult, HypothesisResult, Results
from fibrosurvey.analysis.sensitivity import descriptive_estimates, imputation_sensitivity
from fibrosurvey.analysis.verdicts import (
    claim_verdict,
    discrimination_verdict,
    hypothesis_verdict,
)
from fibrosurvey.analysis.wording import claim_in_words
from fibrosurvey.dataset import ANALYTES
from fibrosurvey.instruments.translation import instruments_in_columns, translation_in_words
from fibrosurvey.recruitment.quality import apply_exclusion, flow_with_rule
from fibrosurvey.scoring.status import without_not_sure
from fibrosurvey.stats.multiplicity import benjamini_hochberg

__all__ = ["data_sha256", "run_plan"]


def data_sha256(frame: pl.DataFrame) -> str:
    """SHA-256 of the data as analysed (Arrow IPC bytes of the frame, columns sorted)."""
    import io

    buffer = io.BytesIO()
    frame.select(sorted(frame.columns)).write_ipc(buffer, compression="uncompressed")
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def _count_hypotheses(plan: Plan) -> int:
    total = 0
    for claim in plan.claims:
        for analysis in claim.analyses:
            if isinstance(analysis, CorrelationAnalysis):
                total += len(analysis.exposures) * len(analysis.outcomes)
            elif isinstance(analysis, GroupComparison):
                total += len(analysis.outcomes)
            elif isinstance(analysis, ChangeAnalysis):
                total += len(analysis.exposures)
            else:
                total += len(analysis.targets)
    return total


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress]:
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    )
    with bar:
        yield bar


def run_plan(
    data: pl.DataFrame,
    plan: Plan | None = None,
    *,
    progress: bool = False,
    imputations: int | None = None,
    sensitivity: bool = True,
    describe: bool = True,
    input_sha256: str | None = None,
    flow: dict[str, Any] | None = None,
    cuts: dict[str, float] | None = None,
) -> Results:
    """Run every analysis of ``plan`` (default: the shipped CED plan) on ``data``.

    Data with quality flags (``quality_flag``, ``quality_reasons``: open recruitment) lose the
    participants the plan's ``quality_exclusion`` excludes. ``flow`` (the web app's database
    counts: ``{"counts": {stage: n}, "completed_flags": [[flagged, [reasons]], ...]}``) becomes
    the report's participant-flow diagram, its analysed stage by the same rule.

    ``data`` is the analysis dataset (one row per participant x event) with scores;
    ``imputations`` overrides the plan's number of imputations (0 skips imputation).
    ``sensitivity=False`` and ``describe=False`` skip the sensitivity analyses and the
    descriptive parts (used by the Monte Carlo tests to keep them fast). ``cuts`` fixes the
    cut of quantile derivations (see :func:`apply_derivations`).
    """
    # The work is many small regressions and rank transforms; multi-threaded BLAS only adds
    # overhead there (measured 5x slower SVDs on a busy 2-core machine), so run single-threaded.
    with threadpool_limits(limits=1):
        plan = plan or load_plan()
        try:
            results = _run(
                data, plan, progress, imputations, sensitivity, describe, input_sha256, cuts
            )
        finally:
            clear_frame_cache()
        if flow:
            results.flow = _flow(flow, plan)
        return results


def _flow(flow: dict[str, Any], plan: Plan) -> dict[str, Any]:
    stages, by_reason = flow_with_rule(
        flow["counts"],
        [(bool(flagged), list(reasons)) for flagged, reasons in flow["completed_flags"]],
        plan.quality_exclusion.rule(),
    )
    return {
        "stages": [
            {"key": s.key, "label": s.label, "count": s.count, "lost": s.lost} for s in stages
        ],
        "excluded_by_reason": by_reason,
    }


def _quality_excluded(frame: pl.DataFrame, plan: Plan) -> tuple[pl.DataFrame, dict[str, Any]]:
    """``frame`` without the participants the plan's quality exclusion leaves out."""
    if "quality_flag" not in frame.columns or "quality_reasons" not in frame.columns:
        return frame, {}
    # A flag read back from CSV is text ("true"/"false"): bool("false") would be True.
    flag = pl.col("quality_flag")
    if frame.schema["quality_flag"] != pl.Boolean:
        flag = flag.cast(pl.String).str.to_lowercase().is_in(["true", "1", "1.0"])
    marked = frame.with_columns(
        pl.when(pl.col("quality_flag").is_null()).then(None).otherwise(flag).alias("quality_flag"),
        pl.col("quality_reasons").cast(pl.String),
    )
    kept, summary = apply_exclusion(marked, plan.quality_exclusion.rule())
    return kept, {
        "participants": summary.participants,
        "excluded": summary.excluded,
        "by_reason": summary.by_reason,
        "rows_excluded": frame.height - kept.height,
        "sentence": summary.sentence(),
    }


def _run(
    data: pl.DataFrame,
    plan: Plan,
    progress: bool,
    imputations: int | None,
    sensitivity: bool,
    describe: bool,
    input_sha256: str | None,
    cuts: dict[str, float] | None,
) -> Results:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    analysed, exclusion = _quality_excluded(without_not_sure(to_numeric(data)), plan)
    described = apply_derivations(analysed, plan, cuts)
    # The models read only the plan's columns: every filter, select and imputed copy below
    # then handles a few dozen columns instead of the survey's hundreds.
    frame = described.select(_plan_columns(plan, described))
    timings["derive"] = time.perf_counter() - started
    m = plan.missing.imputations if imputations is None else imputations
    do_mi = sensitivity and plan.missing.sensitivity == "multiple_imputation" and m >= 2

    rows: list[HypothesisResult] = []
    tasks: list[Task] = []
    block_of: list[tuple[Any, int]] = []
    with _progress(progress) as bar:
        primary = bar.add_task("primary analyses", total=_count_hypotheses(plan))
        by_event = _split_by_event(frame, plan)
        for claim in plan.claims:
            for analysis in claim.analyses:
                tick = time.perf_counter()
                if isinstance(analysis, ChangeAnalysis):
                    own = frame
                    made = change_tasks(analysis, plan, claim.id, claim.family_name, own)
                else:
                    own = by_event[analysis.event]
                    if isinstance(analysis, CorrelationAnalysis):
                        made = correlation_tasks(analysis, plan, claim.id, claim.family_name, own)
                    elif isinstance(analysis, GroupComparison):
                        made = group_comparison_tasks(
                            analysis, plan, claim.id, claim.family_name, own
                        )
                    else:
                        made = discrimination_tasks(
                            analysis, plan, claim.id, claim.family_name, own
                        )
                add_design_models([row for row, _ in made], analysis, plan, own)
                for row, task in made:
                    rows.append(row)
                    tasks.append(task)
                    block_of.append((analysis, len(rows) - 1))
                bar.advance(primary, len(made))
                key = f"{claim.id}:{analysis.kind}"
                timings[key] = timings.get(key, 0.0) + time.perf_counter() - tick

        _adjust_and_judge(rows, plan)

        if sensitivity:
            tick = time.perf_counter()
            _quality_sensitivity(rows, tasks, [a for a, _ in block_of], plan, frame)
            timings["sensitivity:pre-analytical"] = time.perf_counter() - tick
        # The per-event copies and the cached arrays of the primary analyses are not needed
        # again; at 1M participants they hold about a gigabyte the imputed copies can use.
        del by_event, own
        clear_frame_cache()
        if do_mi:
            tick = time.perf_counter()
            imputation_sensitivity(rows, tasks, block_of, plan, frame, m, bar)
            timings["sensitivity:imputation"] = time.perf_counter() - tick

    claims = [_claim_result(claim, rows) for claim in plan.claims]
    results = Results(
        plan_title=plan.title,
        plan_source=plan.source,
        plan_text=plan.text,
        plan_sha256=hashlib.sha256(plan.text.encode("utf-8")).hexdigest(),
        alpha=plan.alpha,
        hypotheses=rows,
        claims=claims,
        # What the data hold was asked in language versions the methods must qualify.
        methods=methods_in_words(plan, m if do_mi else 0)
        + translation_in_words(instruments_in_columns(data.columns)),
        exclusion=exclusion,
    )
    if describe:
        tick = time.perf_counter()
        results.descriptive = descriptive_estimates(plan, frame)
        results.cohort = cohort_table(described)
        results.distributions = score_distributions(described)
        results.quality = data_quality(described, plan.quality.max_minutes_to_centrifuge)
        timings["describe"] = time.perf_counter() - tick
    timings["total"] = time.perf_counter() - started
    results.provenance = _provenance(data, input_sha256, timings, m if do_mi else 0)
    return results


def _adjust_and_judge(rows: list[HypothesisResult], plan: Plan) -> None:
    families: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        families.setdefault(row.family, []).append(index)
    for indexes in families.values():
        # A pre-registered hypothesis that could not be estimated stays in its family with
        # p = 1: leaving it out would shrink the family and make every other q-value too small.
        pvalues = np.array(
            [rows[i].p if math.isfinite(rows[i].p) else 1.0 for i in indexes], dtype=np.float64
        )
        qvalues = benjamini_hochberg(pvalues, alpha=plan.alpha).qvalues
        for i, q in zip(indexes, qvalues, strict=True):
            rows[i].q = float(q)
            if not math.isfinite(rows[i].p):
                rows[i].note = _joined(
                    rows[i].note, "inestimable: counted in its Benjamini-Hochberg family as p = 1"
                )
    for row in rows:
        row.verdict = hypothesis_verdict(
            row.estimate,
            row.q,
            expected=row.expected,  # type: ignore[arg-type]
            ci=(row.ci_low, row.ci_high),
            null_value=row.null_value,
            alpha=plan.alpha,
        )
        if _q_and_interval_disagree(row, plan.alpha):
            row.note = _joined(
                row.note, "q below alpha, but the interval includes no effect: no verdict"
            )
        if row.kind == "discrimination":
            row.verdict, why = discrimination_verdict(row.verdict, row.extra.get("panel_levels"))
            row.note = _joined(row.note, why)
        if row.verdict == "not supported" and "model_based" in row.extra:
            row.mde_note = "no minimal detectable effect for the design-based analysis"
        elif row.verdict == "not supported":
            family_size = sum(r.family == row.family for r in rows)
            row.mde, row.mde_note = minimal_detectable_effect(row, plan, family_size)


def _q_and_interval_disagree(row: HypothesisResult, alpha: float) -> bool:
    """A q below alpha beside an interval that contains the null (p and interval from different
    methods, as C4's likelihood-ratio p and DeLong AUC-gain interval)."""
    return row.q < alpha and row.ci_low <= row.null_value <= row.ci_high


def _joined(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _plan_columns(plan: Plan, frame: pl.DataFrame) -> list[str]:
    """The columns the plan's analyses read (with the keys and the quality rule's column)."""
    wanted = {column for _, column in plan.column_references()}
    wanted |= {d.name for d in plan.derive}
    wanted |= {"event", "participant_id", "lab_minutes_to_centrifuge", "lab_matrix"}
    return [c for c in frame.columns if c in wanted]


def _split_by_event(frame: pl.DataFrame, plan: Plan) -> dict[str, pl.DataFrame]:
    """Each event's rows once (the analyses at an event would otherwise each filter them)."""
    events = {a.event for c in plan.claims for a in c.analyses if not isinstance(a, ChangeAnalysis)}
    return {event: at_event(frame, event) for event in sorted(events)}


def _quality_sensitivity(
    rows: list[HypothesisResult],
    tasks: list[Task],
    analyses: list[Any],
    plan: Plan,
    frame: pl.DataFrame,
) -> None:
    """Re-run biomarker analyses without samples processed too slowly (DESIGN section 5), and
    on plasma samples only when the data hold another matrix."""
    subsets: list[tuple[str, str, pl.DataFrame]] = []
    column = "lab_minutes_to_centrifuge"
    if column in frame.columns:
        limit = plan.quality.max_minutes_to_centrifuge
        slow = pl.col(column).cast(pl.Float64) > limit
        kept = frame.filter(~slow.fill_null(False))
        if kept.height < frame.height:
            label = f"excluding samples with > {limit:g} min to centrifugation"
            subsets.append(("fast_processing", label, kept))
    if "lab_matrix" in frame.columns:
        # One matrix only: serum and plasma levels differ, so the analysis restricted to plasma
        # checks that the matrix adjustment of the primary analysis did its job.
        matrix = pl.col("lab_matrix").cast(pl.String)
        other = (matrix.is_not_null() & (matrix != "plasma")).fill_null(False)
        if frame.select(other.any()).item():
            subsets.append(("plasma_only", "plasma samples only", frame.filter(~other)))
    if not subsets:
        return
    by_event = {key: _split_by_event(subset, plan) for key, _, subset in subsets}
    biomarker_names = set(ANALYTES)
    derived_from = {d.name: getattr(d, "column", "") for d in plan.derive if hasattr(d, "column")}
    for index, (row, task) in enumerate(zip(rows, tasks, strict=True)):
        uses_biomarker = (
            row.exposure in biomarker_names or derived_from.get(row.exposure) in biomarker_names
        ) and row.kind != "discrimination"
        if not uses_biomarker:
            continue
        analysis = analyses[index]
        for key, label, subset in subsets:
            data = subset if isinstance(analysis, ChangeAnalysis) else by_event[key][analysis.event]
            row.sensitivity[key] = _subset_result(task, label, data)


def _subset_result(task: Task, label: str, subset: pl.DataFrame) -> dict[str, Any]:
    result = task(subset)
    return {
        "label": label,
        "method": result.method,
        "n": int(result.n),
        "estimate": float(result.estimate),
        "ci_low": float(result.ci_low),
        "ci_high": float(result.ci_high),
        "p": float(result.p),
        "status": result.status,
        "note": result.note,
    }


def _claim_result(claim: Any, rows: list[HypothesisResult]) -> ClaimResult:
    own = [r for r in rows if r.claim == claim.id]
    verdicts = [r.verdict for r in own]
    verdict = claim_verdict(verdicts, claim.verdict_rule)
    counts = {
        "hypotheses": len(own),
        "supported": sum(v == "supported" for v in verdicts),
        "contradicted": sum(v == "contradicted" for v in verdicts),
        "not supported": sum(v == "not supported" for v in verdicts),
    }
    return ClaimResult(
        id=claim.id,
        statement=" ".join(claim.statement.split()),
        family=claim.family_name,
        verdict_rule=claim.verdict_rule,
        verdict=verdict,
        counts=counts,
        plain=claim_in_words(claim, verdict, own),
        causal_note=" ".join(claim.causal_note.split()),
    )


def _provenance(
    data: pl.DataFrame, input_sha256: str | None, timings: dict[str, float], m: int
) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for package in (
        "fibrosurvey",
        "numpy",
        "polars",
        "scipy",
        "statsmodels",
        "scikit-learn",
        "matplotlib",
        "pandas",
    ):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "input_sha256": input_sha256,
        "data_sha256": data_sha256(data),
        "rows": data.height,
        "columns": data.width,
        "imputations": m,
        "versions": versions,
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
        "platform": platform.platform(),
    }
