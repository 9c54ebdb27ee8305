"""The demo study: a template study filled from the core's synthetic cohort.

Answers and scores come from ``fibrosurvey.synth.generate`` (which scores with the core's
vectorised engine), so the dashboard shows realistic completion, missingness and safety
alerts. One extra participant gets a fresh link to try the survey.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import polars as pl
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from fibrosurvey.dataset import ANALYTES, PREANALYTICAL_COLUMNS
from fibrosurvey.instruments import get_instrument, safety_item
from fibrosurvey.recruitment import DEFAULT_SCREENER
from fibrosurvey.synth import generate
from fibrosurvey.tables import json_cell
from fibrosurvey.web.audit.services import record
from fibrosurvey.web.participants.enrolment import do_enrol_participant
from fibrosurvey.web.participants.invitations import do_issue_invitation
from fibrosurvey.web.participants.models import ContactDetails, Invitation, Participant
from fibrosurvey.web.participants.tokens import hash_token, new_token
from fibrosurvey.web.recruitment.models import OpenLink
from fibrosurvey.web.recruitment.services import do_open_recruitment, public_path
from fibrosurvey.web.studies.models import Membership, Site, Study
from fibrosurvey.web.studies.services import do_add_member, do_create_study_from_template
from fibrosurvey.web.survey.models import ConsentRecord, Response, SafetyAlert

__all__ = [
    "DEMO_OPEN_LINK",
    "DEMO_PASSWORD",
    "DEMO_STUDY_NAME",
    "DEMO_USERNAME",
    "DemoResult",
    "build_demo",
    "existing_demo",
]

DEMO_STUDY_NAME = "Demo: National fibromyalgia survey"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-fibrosurvey-2026"
DEMO_VIEWER = "demo-viewer"
DEMO_OPEN_LINK = "demo-survey"
# The demo's recruitment period, ending this many days before today plus the follow-up.
DEMO_ENROLMENT_DAYS = 60
DEMO_FOLLOWUP_DAYS = 95


@dataclass(frozen=True)
class DemoResult:
    study: Study
    participants: int
    responses: int
    alerts: int
    lab_results: int
    fresh_token: str
    fresh_code: str
    public_path: str  # the open recruitment link (landing page), path only


def synthetic_lab_csv(data: pl.DataFrame) -> str:
    """The cohort's biomarkers as a lab results file (one row per sample x analyte), the
    format a lab sends and the labs app imports."""
    sampled = data.filter(pl.col("lab_matrix").is_not_null())
    parts = [
        sampled.select(
            "participant_id",
            "event",
            pl.lit(analyte).alias("analyte"),
            pl.col(analyte).alias("value"),
            pl.lit("pmol/mL").alias("unit"),
            pl.col(f"{analyte}_lloq").alias("lloq"),
            pl.col(f"{analyte}_below_lloq").alias("below_lloq"),
            (pl.col("twoag_includes_1ag") if analyte == "twoag" else pl.lit(0))
            .cast(pl.Int64)
            .alias("includes_1ag"),
            *PREANALYTICAL_COLUMNS,
        )
        for analyte in ANALYTES
    ]
    return pl.concat(parts).write_csv()


def _import_demo_labs(study: Study, data: pl.DataFrame, owner: User) -> int:
    """Lab results through the labs app's own import, when that app is installed."""
    if not apps.is_installed("fibrosurvey.web.labs"):
        return 0
    from fibrosurvey.web.labs.services import do_import_labs

    result = do_import_labs(
        study, synthetic_lab_csv(data), actor=owner, file_name="synthetic-labs.csv"
    )
    return result.results_created


def _demo_user() -> User:
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(
        username=DEMO_USERNAME, defaults={"email": "demo@example.org"}
    )
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


def existing_demo() -> DemoResult | None:
    """The demo study already in the database, kept as it is (what was done in it stays),
    with a link to try the survey: the fresh participant's own link while it is unused
    (it is kept encrypted, so it can be shown again), else a new fresh participant's."""
    study = Study.objects.filter(name=DEMO_STUDY_NAME).order_by("-pk").first()
    link = OpenLink.objects.filter(study=study).first()
    baseline = study.events.filter(code="baseline").first() if study is not None else None
    if study is None or link is None or baseline is None:
        return None
    fresh = (
        Invitation.objects.filter(
            participant__study=study,
            participant__study_code__startswith="DEMO-NEW",
            participant__withdrawn_at__isnull=True,
            event=baseline,
            opened_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .exclude(token_encrypted="")
        .select_related("participant")
        .order_by("-pk")
        .first()
    )
    if fresh is not None:
        token, code = fresh.token_encrypted, fresh.participant.study_code
    else:
        with transaction.atomic():
            number = study.participants.filter(study_code__startswith="DEMO-NEW").count() + 1
            participant = do_enrol_participant(
                study,
                site=link.site,
                actor=None,
                language="en",
                study_code=f"DEMO-NEW-{number}",
            )
            token = do_issue_invitation(participant, baseline, send=False).token
            code = participant.study_code
    return DemoResult(
        study=study,
        participants=study.participants.count(),
        responses=Response.objects.filter(participant__study=study).count(),
        alerts=SafetyAlert.objects.filter(study=study, acknowledged_at__isnull=True).count(),
        lab_results=0,
        fresh_token=token,
        fresh_code=code,
        public_path=public_path(link),
    )


@transaction.atomic
def build_demo(n: int = 120, seed: int = 2026, scenario: str = "seed-claims") -> DemoResult:
    """(Re)create the demo study with ``n`` synthetic participants; returns a fresh link."""
    owner = _demo_user()
    # Sites are protected from deletion while participants or members use them.
    old = Study.objects.filter(name=DEMO_STUDY_NAME)
    Participant.objects.filter(study__in=old).delete()
    Membership.objects.filter(study__in=old).delete()
    old.delete()
    data = generate(scenario, n, seed).data
    site_codes = sorted(data["site"].unique().to_list())
    study = do_create_study_from_template(
        name=DEMO_STUDY_NAME,
        owner=owner,
        sites=[(code, code.replace("site-", "Site ")) for code in site_codes],
    )
    viewer, _ = get_user_model().objects.get_or_create(username=DEMO_VIEWER)
    do_add_member(study, user=viewer, role="viewer", actor=owner)
    sites = {site.code: site for site in Site.objects.filter(study=study)}
    events = {event.code: event for event in study.events.all()}
    versions = {si.instrument_id: si.version for si in study.instruments.all()}
    now = timezone.now()

    codes = data.select("participant_id", "site").unique(maintain_order=True)
    # Enrolment spread over the months before today (so the dashboard's pictures show a
    # recruitment period); each survey was finished a day after enrolment, the follow-up
    # DEMO_FOLLOWUP_DAYS later, all in the past.
    first_day = now - timedelta(days=DEMO_ENROLMENT_DAYS + DEMO_FOLLOWUP_DAYS)
    step = DEMO_ENROLMENT_DAYS / max(codes.height, 1)
    participants = Participant.objects.bulk_create(
        Participant(
            study=study,
            study_code=code,
            site=sites[site],
            language="es" if i % 3 == 0 else "en",
            enrolled_by=owner,
            enrolled_at=first_day + timedelta(days=i * step),
            consent_version=study.consent_version,
            consented_at=first_day + timedelta(days=i * step),
        )
        for i, (code, site) in enumerate(codes.iter_rows())
    )
    by_code = {p.study_code: p for p in participants}
    ConsentRecord.objects.bulk_create(
        ConsentRecord(participant=p, version=study.consent_version, language=p.language)
        for p in participants
    )
    ContactDetails.objects.bulk_create(
        ContactDetails(participant=p, email=f"{p.study_code.lower()}@example.org")
        for p in participants
    )

    invitations, responses = [], []
    for event_code, rows in data.partition_by("event", as_dict=True).items():
        event = events[event_code[0] if isinstance(event_code, tuple) else event_code]
        for instrument_id in event.instrument_ids():
            instrument = get_instrument(instrument_id)
            items = [c for c in instrument.item_columns() if c in rows.columns]
            scores = [c for c in instrument.score_columns() if c in rows.columns]
            block = rows.select("participant_id", *items, *scores)
            for row in block.iter_rows(named=True):
                responses.append(
                    Response(
                        participant=by_code[row["participant_id"]],
                        event=event,
                        instrument_id=instrument_id,
                        instrument_version=versions[instrument_id],
                        answers={c: json_cell(row[c]) for c in items},
                        scores={c: json_cell(row[c]) for c in scores},
                        status=Response.Status.COMPLETE,
                        completed_at=now,
                    )
                )
        for code in rows["participant_id"].to_list():
            done = by_code[code].enrolled_at + timedelta(days=1 + event.day_offset)
            invitations.append(
                Invitation(
                    participant=by_code[code],
                    event=event,
                    token_hash=hash_token(new_token()),  # nobody holds these links
                    expires_at=now,
                    sent_at=done,
                    opened_at=done,
                    completed_at=done,
                    language_chosen=True,
                )
            )
    Invitation.objects.bulk_create(invitations)
    Response.objects.bulk_create(responses, batch_size=500)
    study.instruments.update(frozen_at=now)

    safety = safety_item()
    flagged = data.filter(pl.col(safety.column) >= safety.at_least).select(
        "participant_id", "event", safety.column
    )
    stored = {
        (r.participant.study_code, r.event.code): r
        for r in Response.objects.filter(
            participant__study=study, instrument_id=safety.instrument_id
        ).select_related("participant", "event")
    }
    alerts = SafetyAlert.objects.bulk_create(
        SafetyAlert(
            study=study,
            participant=by_code[code],
            event=events[event_code],
            response=stored[(code, event_code)],
            value=int(value),
        )
        for code, event_code, value in flagged.iter_rows()
    )
    record(
        "import",
        actor=owner,
        study=study,
        object_type="participants.participant",
        after={
            "source": f"fibrosurvey.synth.generate({scenario!r}, {n}, {seed})",
            "participants": len(participants),
            "responses": len(responses),
        },
    )

    lab_results = _import_demo_labs(study, data, owner)

    fresh = do_enrol_participant(
        study, site=sites[site_codes[0]], actor=owner, language="en", study_code="DEMO-NEW"
    )
    issued = do_issue_invitation(fresh, events["baseline"], actor=owner, send=False)
    link = do_open_recruitment(
        study,
        actor=owner,
        slug=DEMO_OPEN_LINK,
        site=sites[site_codes[0]],
        sources=["patient-newsletter", "clinic-poster"],
        screener=DEFAULT_SCREENER
        | {
            "quotas": [
                {"name": "women", "question": "sex", "values": ["female"], "limit": 300},
                {"name": "men", "question": "sex", "values": ["male"], "limit": 100},
            ]
        },
    )
    return DemoResult(
        study=study,
        participants=len(participants) + 1,
        responses=len(responses),
        alerts=len(alerts),
        lab_results=lab_results,
        fresh_token=issued.token,
        fresh_code=fresh.study_code,
        public_path=public_path(link),
    )
