"""Open recruitment, framework-free: the eligibility screener (questions and rules as data),
quotas, response-quality checks, the exclusion rule for the analysis and the participant flow.

The web app (``fibrosurvey.web.recruitment``) stores visits and flags; everything that decides
something lives here so that the analysis can re-apply it without Django.
"""

from fibrosurvey.recruitment.quality import (
    DEFAULT_EXCLUSION,
    QUALITY_REASONS,
    ExclusionRule,
    ExclusionSummary,
    FlowStage,
    answer_similarity,
    apply_exclusion,
    earlier_near_duplicates,
    flow_diagram_svg,
    flow_stages,
    near_duplicates,
    straightlined,
    too_fast,
)
from fibrosurvey.recruitment.screener import (
    DEFAULT_SCREENER,
    Question,
    Screener,
    ScreenerError,
    ScreenOutcome,
    parse_screener,
)

__all__ = [
    "DEFAULT_EXCLUSION",
    "DEFAULT_SCREENER",
    "QUALITY_REASONS",
    "ExclusionRule",
    "ExclusionSummary",
    "FlowStage",
    "Question",
    "ScreenOutcome",
    "Screener",
    "ScreenerError",
    "answer_similarity",
    "apply_exclusion",
    "earlier_near_duplicates",
    "flow_diagram_svg",
    "flow_stages",
    "near_duplicates",
    "parse_screener",
    "straightlined",
    "too_fast",
]
