"""A straightforward per-respondent scorer, written the way a script or calculated field does it.

It is the test oracle of the scoring engine (``tests/scoring/test_against_naive.py``): it is
coded by hand from the published scoring rules, not from the definition files, so it checks them
independently. ``benchmarks/bench_scoring.py`` also times it as its per-respondent baseline.
"""

from __future__ import annotations

import math
from typing import Any

SITES = [
    "jaw_l", "jaw_r", "shoulder_l", "shoulder_r", "upperarm_l", "upperarm_r", "lowerarm_l",
    "lowerarm_r", "hip_l", "hip_r", "upperleg_l", "upperleg_r", "lowerleg_l", "lowerleg_r",
    "neck", "upperback", "lowerback", "chest", "abdomen",
]  # fmt: skip
REGIONS = [
    ["shoulder_l", "upperarm_l", "lowerarm_l"],
    ["shoulder_r", "upperarm_r", "lowerarm_r"],
    ["hip_l", "upperleg_l", "lowerleg_l"],
    ["hip_r", "upperleg_r", "lowerleg_r"],
    ["neck", "upperback", "lowerback"],
]
SYMPTOMS = ["fatigue", "unrefreshed", "cognitive", "headache", "abdominal", "depression"]


def _half_up(x: float) -> int:
    return math.floor(x + 0.5 + 1e-9)


def _prorated(values: list[Any], needed: int) -> float | None:
    answered = [v for v in values if v is not None]
    if len(answered) < needed:
        return None
    return sum(answered) * len(values) / len(answered)


def _band(total: int | None, edges: list[tuple[int, str]]) -> str | None:
    if total is None:
        return None
    label = None
    for lower, name in edges:
        if total >= lower:
            label = name
    return label


def score_row(r: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    # fsq
    fsq_items = [r[f"fsq_{s}"] for s in SITES] + [r[f"fsq_{s}"] for s in SYMPTOMS]
    if any(v is None for v in fsq_items) or r["fsq_duration"] is None:
        out |= dict.fromkeys(
            ["fsq_wpi", "fsq_sss", "fsq_fs", "fsq_regions", "fsq_acr2016", "fsq_acr2011"]
        )
    else:
        wpi = sum(r[f"fsq_{s}"] for s in SITES)
        sss = sum(r[f"fsq_{s}"] for s in SYMPTOMS)
        regions = sum(1 for region in REGIONS if any(r[f"fsq_{s}"] == 1 for s in region))
        core16 = (wpi >= 7 and sss >= 5) or (4 <= wpi <= 6 and sss >= 9)
        core11 = (wpi >= 7 and sss >= 5) or (3 <= wpi <= 6 and sss >= 9)
        duration = r["fsq_duration"] == 1
        out |= {
            "fsq_wpi": wpi,
            "fsq_sss": sss,
            "fsq_fs": wpi + sss,
            "fsq_regions": regions,
            "fsq_acr2016": int(core16 and regions >= 4 and duration),
            "fsq_acr2011": int(core11 and duration),
        }
    # fiqr
    items = [r[f"fiqr_{i:02d}"] for i in range(1, 22)]
    function = _prorated(items[0:9], 5)
    overall = _prorated(items[9:11], 1)
    symptoms = _prorated(items[11:21], 5)
    out["fiqr_function"] = None if function is None else function / 3
    out["fiqr_overall"] = overall
    out["fiqr_symptoms"] = None if symptoms is None else symptoms / 2
    parts = [out["fiqr_function"], out["fiqr_overall"], out["fiqr_symptoms"]]
    out["fiqr_total"] = None if None in parts else sum(parts)
    # phq9
    phq = _prorated([r[f"phq9_{i}"] for i in range(1, 10)], 7)
    out["phq9_total"] = None if phq is None else _half_up(phq)
    out["phq9_band"] = _band(
        out["phq9_total"],
        [(0, "minimal"), (5, "mild"), (10, "moderate"), (15, "moderately_severe"), (20, "severe")],
    )
    out["phq9_item9_flag"] = None if r["phq9_9"] is None else int(r["phq9_9"] >= 1)
    # gad7
    gad = _prorated([r[f"gad7_{i}"] for i in range(1, 8)], 6)
    out["gad7_total"] = None if gad is None else _half_up(gad)
    out["gad7_band"] = _band(
        out["gad7_total"], [(0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe")]
    )
    # jss, peg, migraine, ibs
    jss = [r[f"jss_{i}"] for i in range(1, 5)]
    out["jss_total"] = None if None in jss else sum(jss)
    peg = [r[f"peg_{i}"] for i in range(1, 4)]
    out["peg_score"] = None if None in peg else sum(peg) / 3
    migraine = [r[f"migraine_{i}"] for i in range(1, 4)]
    out["migraine_positive"] = None if None in migraine else int(sum(migraine) >= 2)
    # Skip logic (1.1.0): fewer than two headaches -> the screener is not applicable -> 0.
    if r.get("migraine_headaches") not in (None, 1):
        out["migraine_positive"] = 0
    ibs = [r[f"ibs_{i}"] for i in range(1, 7)]
    out["ibs_count"] = None if None in ibs else sum(ibs)
    out["ibs_positive"] = None if None in ibs else int(sum(ibs) >= 3)
    # Skip logic (1.1.0): no abdominal pain -> the criteria are not applicable -> not positive.
    if r.get("ibs_abdominal_pain") not in (None, 1):
        out["ibs_positive"] = 0
    # demo
    weight, height = r["demo_weight_kg"], r["demo_height_cm"]
    out["demo_bmi"] = None if weight is None or height is None else weight / (height / 100) ** 2
    return out
