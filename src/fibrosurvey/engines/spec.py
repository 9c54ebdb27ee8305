"""What an engine is asked: the design's columns and the estimands (one description for all)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from fibrosurvey.stats.design_stages import LONELY_PSU_OPTIONS
from fibrosurvey.stats.survey_intervals import PROPORTION_INTERVALS

__all__ = ["DesignColumns", "Estimand", "EstimandKind"]

EstimandKind = Literal["mean", "total", "proportion"]
ESTIMAND_KINDS: tuple[EstimandKind, ...] = ("mean", "total", "proportion")


@dataclass(frozen=True)
class DesignColumns:
    """Column names of a stratified multi-stage design, as :class:`SurveyDesign` takes them.

    ``strata``, ``psu`` and ``fpc`` hold one column per stage (none: one stratum, every row its
    own PSU, with replacement). ``where`` keeps only rows whose column equals the text given
    (e.g. ``{"event": "baseline"}``), before the design is built.
    """

    weights: str
    strata: tuple[str, ...] = ()
    psu: tuple[str, ...] = ()
    fpc: tuple[str, ...] = ()
    lonely_psu: str = "adjust"
    where: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.lonely_psu not in LONELY_PSU_OPTIONS:
            raise ValueError(
                f"lonely_psu must be one of {LONELY_PSU_OPTIONS}, got {self.lonely_psu!r}"
            )
        stages = max(len(self.psu), 1)
        if len(self.strata) > stages:
            raise ValueError(f"strata: {len(self.strata)} stages given but psu has {stages}")
        if len(self.fpc) > stages:
            raise ValueError(f"fpc: {len(self.fpc)} stages given but psu has {stages}")

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.weights, *self.strata, *self.psu, *self.fpc, *(c for c, _ in self.where))


@dataclass(frozen=True)
class Estimand:
    """One design-based estimate: ``mean``, ``total`` or ``proportion`` of ``column``.

    With ``domain``, a domain mean (R ``svyby(~y, ~g, design, svymean)``, as
    ``SurveyDesign.mean_by``; a proportion is then that domain mean, as the plan's tables).

    ``ci`` is the proportion interval (R ``svyciprop`` method, see
    :func:`fibrosurvey.stats.survey_intervals.proportion_interval`).
    """

    kind: EstimandKind
    column: str
    ci: str = "logit"
    # A domain (R svyby): rows whose ``domain[0]`` column equals ``domain[1]``; the others stay
    # in the design with zero influence.
    domain: tuple[str, float] | None = None

    @property
    def key(self) -> tuple[str, tuple[str, float] | None]:
        return (self.column, self.domain)

    def __post_init__(self) -> None:
        if self.kind not in ESTIMAND_KINDS:
            raise ValueError(f"estimand kind must be one of {ESTIMAND_KINDS}, got {self.kind!r}")
        if self.ci not in PROPORTION_INTERVALS:
            raise ValueError(f"ci must be one of {PROPORTION_INTERVALS}, got {self.ci!r}")
