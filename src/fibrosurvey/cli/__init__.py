"""The ``fibrosurvey`` command line.

Each family of commands lives in its own module and registers itself on :data:`main`.
Exit codes: 0 success, 1 validation found errors, 2 usage error.
"""

from __future__ import annotations

import importlib

import click

from fibrosurvey import __version__

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fibrosurvey")
def main() -> None:
    """Score, validate and analyse fibromyalgia research surveys."""


# One module per command family; each adds its commands to `main` when imported.
_COMMAND_MODULES = [
    "fibrosurvey.cli.synth_commands",
    "fibrosurvey.cli.instrument_commands",
    "fibrosurvey.cli.instrument_import_commands",
    "fibrosurvey.cli.redcap_commands",
    "fibrosurvey.cli.fhir_commands",
    "fibrosurvey.cli.web_commands",
    "fibrosurvey.cli.analysis_commands",
    "fibrosurvey.cli.survey_commands",
]

for _module in _COMMAND_MODULES:
    importlib.import_module(_module)
