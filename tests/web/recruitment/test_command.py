"""Configuring the open link from the command line: a screener file, sources, closing."""

from __future__ import annotations

import io

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.recruitment.models import OpenLink


def _run(*args):
    out = io.StringIO()
    call_command("open_recruitment", *[str(a) for a in args], stdout=out)
    return out.getvalue()


def test_a_screener_file_opens_the_link_with_its_sources(study, tmp_path):
    screener = yaml.safe_load(_run("--print-default-screener"))
    screener["questions"][0]["min"] = 21
    path = tmp_path / "screener.yaml"
    path.write_text(yaml.safe_dump(screener))

    out = _run(
        study.pk, "--slug", "fibro-2026", "--screener", path, "--source", "radio", "--site", "south"
    )

    first_line = out.splitlines()[0]
    assert first_line.startswith("Public link: http") and first_line.endswith("/r/fibro-2026/")
    assert "radio: " in out and "?src=radio" in out
    link = OpenLink.objects.get()
    assert (link.site.code, link.sources, link.screener["questions"][0]["min"]) == (
        "south",
        ["radio"],
        21,
    )
    assert AuditRecord.objects.filter(object_type="recruitment.openlink", action="create").exists()
    _run(study.pk, "--close")
    link.refresh_from_db()
    assert not link.is_open


def test_a_bad_screener_file_is_refused_naming_the_problem(study, tmp_path):
    path = tmp_path / "screener.yaml"
    path.write_text("questions:\n  - id: age\n    type: text\n")
    with pytest.raises(CommandError, match=r"questions\[0\]\.type: one of \['integer', 'choice'\]"):
        _run(study.pk, "--slug", "fibro-2026", "--screener", path)
    with pytest.raises(CommandError, match=r"--site 'west': one of \['north', 'south'\]"):
        _run(study.pk, "--slug", "fibro-2026", "--site", "west")
    assert not OpenLink.objects.exists()


def test_assess_recruitment_checks_completed_surveys_once(open_link, visit_and_screen):
    from django.test import Client

    from fibrosurvey.web.recruitment.models import QualityFlag
    from tests.web.recruitment.conftest import start_and_complete, straight_answer

    client = Client()
    token = visit_and_screen(client).url.strip("/").split("/")[2]
    start_and_complete(client, token, straight_answer)
    out = io.StringIO()
    call_command("assess_recruitment", stdout=out)
    call_command("assess_recruitment", stdout=out)
    assert out.getvalue().splitlines() == [
        f"study {open_link.study_id} (fibro-survey): 1 assessed",
        f"study {open_link.study_id} (fibro-survey): 0 assessed",
    ]
    assert set(QualityFlag.objects.values_list("reason", flat=True)) == {
        "straightlining",
        "too_fast",
    }


def test_a_slug_taken_by_another_study_is_refused(study, other_study):
    _run(other_study.pk, "--slug", "fibro-2026")
    with pytest.raises(CommandError, match="another study's link uses it"):
        _run(study.pk, "--slug", "fibro-2026")
    assert OpenLink.objects.get().study == other_study
