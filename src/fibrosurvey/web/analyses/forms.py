from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

__all__ = ["RunAnalysisForm"]

MAX_PLAN_BYTES = 500_000


class RunAnalysisForm(forms.Form):
    plan = forms.FileField(
        label=_("Analysis plan (YAML, optional)"),
        required=False,
        help_text=_("Leave empty to run the default pre-registered plan (claims C0-C4)."),
    )

    def clean_plan(self) -> tuple[str, str] | None:
        upload = self.cleaned_data.get("plan")
        if not upload:
            return None
        if upload.size > MAX_PLAN_BYTES:
            raise forms.ValidationError(_("The plan is larger than 500 kB."))
        try:
            return upload.name, upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The plan is not UTF-8 text.")) from None
