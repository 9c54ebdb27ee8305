"""The three planted truths: the article's claims, the meta-analysis, and nothing.

Every number here is a data-generating parameter on the latent scale of
:mod:`fibrosurvey.synth.clinical` (severity and the endocannabinoid tone are standard normal
within the FM class) or on the natural-log scale of a biomarker concentration. The implied
population statistics that an analysis should recover (partial Spearman correlations, risk
differences, the ANCOVA coefficient) are computed numerically by
:mod:`fibrosurvey.synth.truth` and shipped in ``truth_values.json``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["SCENARIOS", "Scenario", "get_scenario"]


@dataclass(frozen=True)
class Scenario:
    """Planted effects of one scenario."""

    name: str
    description: str
    # C1: severity z = -tone_on_severity * tone + sqrt(1 - t^2) * noise (within class).
    tone_on_severity: float = 0.0
    # Mean shift of the endocannabinoid tone in the FM class (negative = lower tone in FM).
    tone_shift_fm: float = 0.0
    # Loading of each analyte's biological log level on the shared tone.
    tone_loading: dict[str, float] = field(default_factory=dict)
    # Class shift of an analyte's biological log level in FM, in SDs of that level (literature).
    fm_shift_sd: dict[str, float] = field(default_factory=dict)
    # C2: extra effect of LOW tone on distress (SD units) and on comorbidity log-odds.
    tone_on_distress: float = 0.0
    tone_on_migraine_logit: float = 0.0
    tone_on_ibs_logit: float = 0.0
    # C3: change of follow-up severity (latent SD units; negative = improvement).
    effect_any_lifestyle: float = 0.0
    effect_exercise: float = 0.0
    effect_mindbody: float = 0.0
    effect_gabapentinoid: float = 0.0
    # Sample matrix as a confounder: (share of serum samples in the FM class, in the others),
    # as when specialist clinics, which see more fibromyalgia, send serum. None: each site uses
    # one matrix (15% of sites serum), unrelated to FM status. Serum levels are higher either
    # way (the offsets in fibrosurvey.synth.labs).
    serum_share_by_fm: tuple[float, float] | None = None

    def parameters(self) -> dict[str, object]:
        """The parameters as plain data (for the truth sidecar)."""
        return asdict(self)


_ALL_ANALYTES_ON_TONE = {"aea": 0.8, "twoag": 0.5, "pea": 0.55, "oea": 0.55, "sea": 0.5}

SCENARIOS: dict[str, Scenario] = {
    "seed-claims": Scenario(
        name="seed-claims",
        description=(
            "The article's claims are true: a low endocannabinoid tone (all five analytes, most "
            "strongly AEA) raises pain, fatigue and poor sleep (C1), distress, migraine and IBS "
            "(C2), is lower in FM (C4), and lifestyle interventions improve FIQR more than "
            "analgesics alone (C3)."
        ),
        tone_on_severity=0.35,
        tone_shift_fm=-0.4,
        tone_loading=_ALL_ANALYTES_ON_TONE,
        tone_on_distress=0.25,
        tone_on_migraine_logit=0.4,
        tone_on_ibs_logit=0.4,
        effect_any_lifestyle=-0.35,
        effect_gabapentinoid=-0.05,
    ),
    "literature": Scenario(
        name="literature",
        description=(
            "As Kurlyandchik et al. 2022 (Pain Rep 7:e1045) found: OEA, SEA and PEA higher in "
            "FM, AEA and 2-AG no different, no link of AEA with symptoms beyond FM status; "
            "exercise and mind-body practice help a little, other lifestyle items do not."
        ),
        tone_loading={"aea": 0.5, "twoag": 0.3, "pea": 0.5, "oea": 0.5, "sea": 0.5},
        fm_shift_sd={"pea": 0.3, "oea": 0.45, "sea": 0.6},
        effect_exercise=-0.15,
        effect_mindbody=-0.08,
        effect_gabapentinoid=-0.05,
    ),
    "null": Scenario(
        name="null",
        description=(
            "No association: biomarkers depend only on demographics (BMI, sex), cannabis use "
            "and pre-analytical handling; no treatment or lifestyle changes the course."
        ),
        tone_loading={"aea": 0.5, "twoag": 0.3, "pea": 0.5, "oea": 0.5, "sea": 0.5},
    ),
}


def get_scenario(name: str) -> Scenario:
    """The scenario called ``name``, or a ValueError listing the scenarios."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(
            f"unknown scenario {name!r}; choose one of: {', '.join(SCENARIOS)}"
        ) from None
