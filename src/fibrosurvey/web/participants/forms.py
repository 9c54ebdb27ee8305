from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from fibrosurvey.web.participants.models import WithdrawalKind, WithdrawalReason
from fibrosurvey.web.studies.codes import CODE_MAX_LENGTH, validate_code
from fibrosurvey.web.studies.models import Site, Study


class EnrolForm(forms.Form):
    site: forms.ModelChoiceField[Site] = forms.ModelChoiceField(
        label=_("Site"), queryset=None, empty_label=None
    )
    language = forms.ChoiceField(label=_("Language"))
    study_code = forms.CharField(
        label=_("Study code (leave blank to generate one)"),
        max_length=CODE_MAX_LENGTH,
        required=False,
        help_text=_("Letters, digits, - and _; never a name, e-mail address or other identifier."),
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    name = forms.CharField(label=_("Name"), max_length=200, required=False)

    def __init__(self, study: Study, sites: QuerySet[Site], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.study = study
        site, language = self.fields["site"], self.fields["language"]
        assert isinstance(site, forms.ModelChoiceField)
        assert isinstance(language, forms.ChoiceField)
        site.queryset = sites
        language.choices = [(code, code) for code in study.languages]

    def clean_study_code(self) -> str:
        code: str = self.cleaned_data["study_code"].strip()
        if code:
            validate_code(code)
        if code and self.study.participants.filter(study_code=code).exists():
            raise forms.ValidationError(_("This study code is already used."))
        return code


class EnrolCsvForm(forms.Form):
    file = forms.FileField(label=_("CSV file (UTF-8)"))

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > 5_000_000:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        try:
            text: str = upload.read().decode("utf-8")
            return text
        except UnicodeDecodeError:
            raise forms.ValidationError(
                _("The file is not UTF-8 text; save it as CSV UTF-8.")
            ) from None


class WithdrawForm(forms.Form):
    """A withdrawal needs its kind, a reason and an explicit confirmation."""

    kind = forms.ChoiceField(
        label=_("Kind of withdrawal"), choices=WithdrawalKind.choices, widget=forms.RadioSelect
    )
    reason = forms.ChoiceField(label=_("Reason"), choices=WithdrawalReason.choices)
    confirm = forms.BooleanField(
        label=_(
            "I confirm this withdrawal: every survey link stops working and the participant is "
            "never invited again. Deleting research data cannot be undone."
        ),
        required=True,
        error_messages={"required": _("Tick the box to confirm the withdrawal.")},
    )
