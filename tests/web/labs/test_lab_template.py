"""The lab template a coordinator downloads: example rows that import once the code is real,
and a column guide on the import page."""

from __future__ import annotations

from django.urls import reverse

from fibrosurvey.web.labs.models import LabResult
from fibrosurvey.web.labs.services import do_import_labs


def test_template_has_example_rows_that_import_once_the_code_is_a_real_participant(
    login, study, users, participant
):
    response = login("carol").get(reverse("labs:template", args=[study.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    header, *rows = text.strip().splitlines()
    assert header.startswith("participant_id,event,analyte,value,unit,lloq,lab_matrix")
    assert len(rows) == 2
    assert "yes" in rows[0].split(",")  # fasting written as a word, as labs write it

    result = do_import_labs(
        study, text.replace("EXAMPLE-001", participant.study_code), actor=users["carol"]
    )
    assert result.results_created == 2
    stored = {r.analyte: r for r in LabResult.objects.filter(sample__participant=participant)}
    assert stored["twoag"].below_lloq and stored["twoag"].includes_1ag
    assert stored["aea"].sample.fasting == 1


def test_import_page_explains_every_column_and_the_analyte_spellings(login, study):
    page = login("carol").get(reverse("labs:import", args=[study.pk])).content.decode()
    assert "What each column means" in page
    assert "minutes from draw to centrifugation" in page
    assert "anandamide" in page and "2-arachidonoylglycerol" in page
