"""The HTML report: one self-contained file a clinician can read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fibrosurvey.analysis import Results
from fibrosurvey.report import render_html, write_report


@pytest.fixture(scope="module")
def html(results: Results) -> str:
    return render_html(results)


def test_report_is_self_contained_without_scripts_or_network(html: str) -> None:
    assert "<script" not in html.lower()
    # no external resources: every src/href is a fragment link
    for attribute in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert attribute.startswith("#"), attribute
    assert "@import" not in html
    for target in re.findall(r"url\(([^)]*)\)", html):
        assert target.startswith("#"), target  # SVG clip paths point inside the file


def test_report_has_every_figure_inline(html: str) -> None:
    # distributions, missingness, C0/C1 forests, C2 bars, C3 change, C4 ROC
    assert html.count("<svg") >= 7
    assert "<img" not in html


def test_report_states_the_design_cannot_show_cause(html: str) -> None:
    assert "This is an observational study." in html
    assert "not what causes what" in html
    assert "cannot show that an intervention caused" in html


def test_report_prints_plan_hashes_and_versions(html: str, results: Results) -> None:
    assert results.plan_sha256 in html
    assert results.provenance["data_sha256"] in html
    assert "registered: &#34;2026-11-23&#34;" in html or 'registered: "2026-11-23"' in html
    assert "statsmodels" in html and "polars" in html


def test_report_gives_each_claim_a_verdict_in_words(html: str, results: Results) -> None:
    for claim in results.claims:
        assert f'id="{claim.id}"' in html
        assert claim.plain.split(":")[0] in html  # "The data SUPPORT this claim" etc.
    assert "Table 1" in html
    assert "Blood samples: pre-analytical flags" in html
    assert "More than 30 min from draw to centrifugation" in html
    assert "2-AG measured together with 1-AG" in html


def test_not_supported_rows_show_the_smallest_detectable_effect(
    html: str, results: Results
) -> None:
    rows = [h for h in results.hypotheses if h.verdict == "not supported" and h.status == "ok"]
    assert rows, "the fixture should contain at least one not-supported hypothesis"
    assert rows[0].mde_note in html


def test_write_report_creates_the_directory(results: Results, tmp_path: Path) -> None:
    path = write_report(results, tmp_path / "deep" / "report.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
