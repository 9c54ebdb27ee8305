from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fibrosurvey.biomarkers import UNITS
from fibrosurvey.web.labs.corrections import MAX_REASON_CHARS
from fibrosurvey.web.labs.csv_reading import MAX_LAB_FILE_BYTES

__all__ = ["LabImportForm", "ResultCorrectionForm"]


class LabImportForm(forms.Form):
    file = forms.FileField(label=_("Lab results CSV (UTF-8)"))

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_LAB_FILE_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return bytes(upload.read())


class ResultCorrectionForm(forms.Form):
    """Correct the value (in a unit the lab used) or retract the result; a reason always."""

    action = forms.ChoiceField(
        choices=[("correct", _("Correct the value")), ("retract", _("Retract the result"))],
        widget=forms.RadioSelect,
        initial="correct",
    )
    value = forms.CharField(
        label=_("Corrected value"),
        required=False,
        max_length=40,
        help_text=_("A number, or <LLOQ when below the limit of quantification."),
    )
    unit = forms.ChoiceField(
        label=_("Unit of the value"),
        choices=[(u, u) for u in sorted(set(UNITS.values()))],
        initial="pmol/mL",
    )
    reason = forms.CharField(
        label=_("Reason (required, kept in the audit trail)"),
        max_length=MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("action") == "correct" and not (data.get("value") or "").strip():
            self.add_error("value", _("Give the corrected value, or choose to retract."))
        return data
