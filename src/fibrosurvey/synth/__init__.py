"""The synthetic national survey: a realistic cohort with a planted, known truth.

``generate(scenario, n, seed)`` returns a :class:`SynthResult` whose ``.data`` is an analysis
dataset (one row per participant x event: ``baseline`` for everyone, ``followup_3m`` for ~60%)
and whose ``.truth`` holds the planted effects and the population values the analysis must
recover. Scenarios: ``seed-claims`` (the article's claims C1-C4 true), ``literature`` (as the
2022 meta-analysis found) and ``null`` (no association, no treatment effect).

The model, its parameters and their sources are in the module docstrings:
:mod:`.design` (stratified two-stage cluster sample), :mod:`.people` (latent traits and
demographics), :mod:`.clinical` (questionnaire answers and calibration targets),
:mod:`.treatments` (confounded treatment choices), :mod:`.labs` (biomarkers and pre-analytical
artefacts), :mod:`.followup` (regression to the mean, C3 effects), :mod:`.nonresponse`
(MAR + MCAR item non-response), :mod:`.scenarios` (planted effects) and :mod:`.truth`.
"""

from fibrosurvey.synth.generator import SynthResult, generate, simulate
from fibrosurvey.synth.scenarios import SCENARIOS, Scenario, get_scenario

__all__ = ["SCENARIOS", "Scenario", "SynthResult", "generate", "get_scenario", "simulate"]
