from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fibrosurvey.web.survey.models import SafetyAlert


class AlertCaseForm(forms.Form):
    """One step in a safety case: a note, a new status, or both."""

    status = forms.ChoiceField(label=_("Status"), choices=SafetyAlert.Status.choices)
    note = forms.CharField(
        label=_("Note (what was done, who was reached, what was agreed)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        required=False,
    )

    def __init__(self, alert: SafetyAlert, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"status": alert.status})
        super().__init__(*args, **kwargs)
        self.alert = alert

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("status") == self.alert.status and not data.get("note", "").strip():
            raise forms.ValidationError(_("Write a note or change the status."))
        return data
