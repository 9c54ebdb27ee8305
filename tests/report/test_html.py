"""The HTML report: one self-contained file a clinician can read."""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import polars as pl
import pytest

from fibrosurvey.analysis import Results, parse_plan, run_plan
from fibrosurvey.analysis.plan import default_plan_text
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


def _inestimable_c2(results: Results) -> Results:
    """The results with one C2 model inestimable (separation by the exposure)."""
    changed = copy.deepcopy(results)
    row = next(h for h in changed.hypotheses if h.claim == "C2")
    row.estimate = row.ci_low = row.ci_high = row.p = math.nan
    row.status, row.note = "separation", "(quasi-)complete separation by exposure"
    return changed


def test_report_prints_no_nan_even_for_a_model_that_could_not_be_estimated(
    html: str, results: Results
) -> None:
    assert not re.search(r"\bnan\b", html, flags=re.IGNORECASE)
    broken = render_html(_inestimable_c2(results))
    assert not re.search(r"\bnan\b", broken, flags=re.IGNORECASE)
    # The C2 figure says what the table says: no estimate, and why.
    assert "adj. OR – (separation)" in broken
    assert "inestimable: separation" in broken


def test_report_title_names_every_claim_it_covers(html: str, results: Results) -> None:
    title = re.search(r"<h1>(.*?)</h1>", html, flags=re.DOTALL)
    assert title is not None
    named: set[str] = set()
    for first, last in re.findall(r"C(\d+)(?:\s*[-–]\s*C(\d+))?", title.group(1)):
        named.update(f"C{k}" for k in range(int(first), int(last or first) + 1))
    assert named == {c.id for c in results.claims}, title.group(1)


_NUMBER = r"[−-]?\d+(?:\.\d+)?"


def _decimals(number: str) -> int:
    return len(number.split(".")[1]) if "." in number else 0


def test_estimates_and_their_intervals_share_one_precision(html: str) -> None:
    triples = re.findall(rf"({_NUMBER}) \(({_NUMBER}) to ({_NUMBER})\)", html)
    triples += re.findall(rf"({_NUMBER}) \[({_NUMBER}), ({_NUMBER})\]", html)
    assert len(triples) > 50
    uneven = [t for t in triples if len({_decimals(n) for n in t}) > 1]
    assert not uneven, uneven[:5]


def test_report_without_a_survey_design_says_its_estimates_are_unweighted(
    cohort: pl.DataFrame,
) -> None:
    text = default_plan_text()
    design = text[text.index("\ndesign:\n") : text.index("\ncovariate_sets:")]
    plan = parse_plan(text.replace(design, "\n"))
    assert plan.design is None
    results = run_plan(cohort, plan, imputations=0, sensitivity=False)
    html = render_html(results)
    section = html[html.index('<section id="design">') : html.index('<section id="quality">')]
    assert "Descriptive estimates" in section and "Survey-weighted" not in section
    assert "unweighted" in section
    assert "weights" not in section and "strata" not in section and "Unweighted</th>" not in section
    assert "Taylor linearisation" not in " ".join(results.methods)


def test_methods_say_which_language_versions_are_not_validated_or_not_checked(html: str) -> None:
    methods = html[html.index('<section id="methods">') : html.index('<section id="plan">')]
    # The synthetic cohort holds every instrument; the flags come from their definitions.
    spanish = next(
        p for p in re.findall(r"<p>(.*?)</p>", methods, re.S) if "(Spanish versions)" in p
    )
    assert "jss, peg, nrs, migraine, ibs, dx, tx, demo and pgic are not validated" in spanish
    assert "the wording of fsq, fiqr, phq9 and gad7 has not been checked" in spanish
    english = next(
        p for p in re.findall(r"<p>(.*?)</p>", methods, re.S) if "(English versions)" in p
    )
    assert "nrs, ibs, dx, tx, demo and pgic are not validated" in english
