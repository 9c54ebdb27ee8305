"""Forms of the study owner's settings pages (one field per offered language)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from fibrosurvey.web.ops.text import refuse_control_characters
from fibrosurvey.web.studies.codes import CODE_RULE, code_problem
from fibrosurvey.web.studies.forms import study_country_choices

LANGUAGES: list[tuple[str, Any]] = list(settings.LANGUAGES)


def per_language(data: dict[str, Any], prefix: str) -> dict[str, str]:
    """{"en": ..., "es": ...} from the fields ``<prefix>_en``, ``<prefix>_es`` (blank dropped)."""
    return {
        code: data[f"{prefix}_{code}"].strip()
        for code, _name in LANGUAGES
        if data.get(f"{prefix}_{code}", "").strip()
    }


def _day_list(value: str) -> list[int]:
    days: list[int] = []
    for part in value.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or int(part) < 1:
            raise forms.ValidationError(
                _("%(value)s is not a number of days; write e.g. 7, 14"), params={"value": part}
            )
        days.append(int(part))
    return sorted(set(days))


class StudySettingsForm(forms.Form):
    languages = forms.MultipleChoiceField(
        label=_("Languages offered"), choices=LANGUAGES, widget=forms.CheckboxSelectMultiple
    )
    country = forms.ChoiceField(
        label=_("Country"),
        choices=lambda: study_country_choices(),
        help_text=_("Sets the regions, units, crisis numbers and drug examples participants see."),
    )
    safety_phone = forms.CharField(label=_("Safety contact phone"), max_length=40, required=False)
    safety_email = forms.EmailField(label=_("Safety contact e-mail"), required=False)
    safety_hours = forms.CharField(label=_("Safety contact hours"), max_length=120, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, name in LANGUAGES:
            self.fields[f"title_{code}"] = forms.CharField(
                label=_("Title (%(language)s)") % {"language": name},
                max_length=200,
                required=False,
                validators=[refuse_control_characters],
            )
            self.fields[f"description_{code}"] = forms.CharField(
                label=_("Description (%(language)s)") % {"language": name},
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
        self.order_fields([f"{p}_{c}" for c, _n in LANGUAGES for p in ("title", "description")])

    def clean_safety_phone(self) -> str:
        phone: str = self.cleaned_data["safety_phone"].strip()
        if phone and not all(ch.isdigit() or ch in " +-()." for ch in phone):
            raise forms.ValidationError(_("A phone number holds digits, spaces and + - ( ) ."))
        return phone


class ConsentForm(forms.Form):
    def __init__(self, languages: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, name in LANGUAGES:
            self.fields[f"consent_{code}"] = forms.CharField(
                label=_("Consent text (%(language)s)") % {"language": name},
                required=code in languages,
                widget=forms.Textarea(attrs={"rows": 10}),
            )


class EventScheduleForm(forms.Form):
    day_offset = forms.IntegerField(label=_("Day offset (days after baseline)"), min_value=0)
    window_days = forms.IntegerField(
        label=_("Window (days the invitation stays open; 0 = no limit)"), min_value=0, initial=0
    )
    reminder_days = forms.CharField(
        label=_("Reminders (days after the invitation, e.g. 7, 14)"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, name in LANGUAGES:
            self.fields[f"label_{code}"] = forms.CharField(
                label=_("Name (%(language)s)") % {"language": name}, max_length=120, required=False
            )
        self.order_fields([f"label_{c}" for c, _n in LANGUAGES])

    def clean_reminder_days(self) -> list[int]:
        return _day_list(self.cleaned_data["reminder_days"])


class AddEventForm(EventScheduleForm):
    code = forms.CharField(label=_("Event code (the export's event column)"), max_length=32)
    field_order = ["code"]

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"].strip()
        if code_problem(code):
            raise forms.ValidationError(_("Use %(rule)s."), params={"rule": CODE_RULE})
        return code


class EventForm(EventScheduleForm):
    battery = forms.CharField(
        label=_("Battery: instrument ids in order, one per line"),
        widget=forms.Textarea(attrs={"rows": 8}),
    )

    def clean_battery(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["battery"].splitlines() if line.strip()]
