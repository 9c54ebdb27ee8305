"""Vectorised scoring of whole tables from the instrument definitions."""

from fibrosurvey.scoring.engine import (
    SCORING_VERSIONS_COLUMN,
    score_frame,
    score_frame_with,
    score_response,
    scoring_provenance,
)

__all__ = [
    "SCORING_VERSIONS_COLUMN",
    "score_frame",
    "score_frame_with",
    "score_response",
    "scoring_provenance",
]
