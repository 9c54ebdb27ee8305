"""The lab-import history on the samples page: a site-limited member sees only files with
samples of their site, counted for their site; other sites' files stay invisible."""

from __future__ import annotations

from django.urls import reverse

from fibrosurvey.web.labs.services import do_import_labs

HEADER = "participant_id,event,analyte,value,unit,lloq,lab_matrix,lab_assay,lab_batch\n"


def _row(code, analyte="aea"):
    return f"{code},baseline,{analyte},1,ng/mL,0.05,plasma,LC-MS/MS,B1\n"


def test_site_limited_member_sees_only_their_sites_imports(
    study, participant, participant_south, users, login
):
    north, south = participant.study_code, participant_south.study_code
    do_import_labs(
        study, (HEADER + _row(north)).encode(), actor=users["carol"], file_name="north-only.csv"
    )
    do_import_labs(
        study,
        (HEADER + _row(north, "pea") + _row(south) + _row(south, "pea")).encode(),
        actor=users["carol"],
        file_name="both-sites.csv",
    )
    url = reverse("labs:samples", args=[study.pk])

    sam = login("sam").get(url)
    page = sam.content.decode()
    assert "both-sites.csv" in page and "north-only.csv" not in page
    [shown] = sam.context["imports"]
    assert (shown.site_samples, shown.site_results) == (1, 2)
    assert ">3<" not in page  # the file's total rows would reveal the other site

    everyone = login("carol").get(url).content.decode()
    assert "both-sites.csv" in everyone and "north-only.csv" in everyone


def test_the_lab_template_is_written_by_the_platforms_csv_writer(study, login):
    from fibrosurvey.web.labs.csv_reading import LAB_COLUMNS

    response = login("carol").get(reverse("labs:template", args=[study.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    header, *examples = response.content.decode().splitlines()
    assert header == ",".join(LAB_COLUMNS)
    # The example rows keep their negative storage temperature: a number, not a formula.
    assert examples and all(row.split(",")[-3] == "-80" for row in examples)
