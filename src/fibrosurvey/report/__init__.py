"""The self-contained HTML report of an analysis run."""

from fibrosurvey.report.html import render_html, write_report

__all__ = ["render_html", "write_report"]
