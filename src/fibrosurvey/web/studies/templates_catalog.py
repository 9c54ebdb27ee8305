"""Study templates: ready-made event schedules and batteries a new study can start from."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["TEMPLATES", "EventTemplate", "StudyTemplate"]


@dataclass(frozen=True)
class EventTemplate:
    code: str
    label: dict[str, str]
    day_offset: int
    instruments: tuple[str, ...]


@dataclass(frozen=True)
class StudyTemplate:
    key: str
    name: dict[str, str]
    languages: tuple[str, ...]
    events: tuple[EventTemplate, ...]
    consent_version: str
    consent_text: dict[str, str]
    safety_contact: dict[str, str] = field(default_factory=dict)


NATIONAL_FIBROMYALGIA_SURVEY = StudyTemplate(
    key="national_fibromyalgia_survey",
    name={"en": "National fibromyalgia survey", "es": "Encuesta nacional de fibromialgia"},
    languages=("en", "es"),
    events=(
        EventTemplate(
            code="baseline",
            label={"en": "Baseline", "es": "Inicio"},
            day_offset=0,
            instruments=(
                "fsq",
                "fiqr",
                "phq9",
                "gad7",
                "jss",
                "peg",
                "nrs",
                "migraine",
                "ibs",
                "dx",
                "tx",
                "demo",
            ),
        ),
        EventTemplate(
            code="followup_3m",
            label={"en": "3-month follow-up", "es": "Seguimiento a los 3 meses"},
            day_offset=90,
            instruments=("fiqr", "nrs", "peg", "tx", "pgic"),
        ),
    ),
    consent_version="1.0",
    consent_text={
        "en": (
            "This survey is part of a research study on fibromyalgia. It asks about your "
            "symptoms, other health conditions, treatments and daily life, and takes about "
            "25 minutes. You can stop at any time and come back later with the same link; "
            "your answers are saved page by page.\n\n"
            "Taking part is voluntary. You can skip a question or withdraw at any time "
            "without giving a reason, and this will not affect your care.\n\n"
            "Your answers are stored under a study code, not your name. Your contact "
            "details are kept separately, encrypted, and are seen only by the study team. "
            "Results are published only as group summaries.\n\n"
            "This survey does not diagnose you or give medical advice. If you feel unwell, "
            "contact your doctor."
        ),
        "es": (
            "Esta encuesta forma parte de un estudio de investigación sobre la fibromialgia. "
            "Le pregunta por sus síntomas, otras enfermedades, tratamientos y su vida diaria, "
            "y dura unos 25 minutos. Puede parar cuando quiera y volver más tarde con el mismo "
            "enlace; sus respuestas se guardan página a página.\n\n"
            "Participar es voluntario. Puede dejar una pregunta sin responder o retirarse en "
            "cualquier momento sin dar explicaciones, y esto no afectará a su atención médica.\n\n"
            "Sus respuestas se guardan con un código de estudio, no con su nombre. Sus datos "
            "de contacto se guardan aparte, cifrados, y solo los ve el equipo del estudio. Los "
            "resultados se publican solo como resúmenes de grupo.\n\n"
            "Esta encuesta no le diagnostica ni le da consejo médico. Si se encuentra mal, "
            "consulte a su médico."
        ),
    },
    safety_contact={
        "en": "Study team: call the number on your invitation letter (weekdays 9:00-17:00).",
        "es": (
            "Equipo del estudio: llame al número de su carta de invitación (laborables 9:00-17:00)."
        ),
    },
)

TEMPLATES: dict[str, StudyTemplate] = {
    NATIONAL_FIBROMYALGIA_SURVEY.key: NATIONAL_FIBROMYALGIA_SURVEY,
}
